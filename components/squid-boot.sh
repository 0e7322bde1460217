#!/bin/bash
# vpc-lambda-kit SquidProxyTier boot script, rendered from components/squid-boot.sh by
# renderBootScript() (components/squid-proxy-tier.ts): each placeholder (a name between double
# at-signs) is replaced by a shell-quoted value.
# Holds no secret: the header value is read from Secrets Manager at boot and written only into
# /etc/squid/squid.conf (root:squid 0640).
set -Eeuo pipefail
export LC_ALL=C

VLK_SECRET_ARN=@@SECRET_ARN@@
VLK_SECRET_SELECTOR=@@SECRET_SELECTOR@@
VLK_PLACEMENT=@@PLACEMENT@@
VLK_POOL_TAG_KEY=@@POOL_TAG_KEY@@
VLK_POOL_ID=@@POOL_ID@@
VLK_PORT=@@PORT@@
VLK_HEADER_TOKEN=@@HEADER_TOKEN@@
VLK_HEADER_VALUE_MAX=@@HEADER_VALUE_MAX@@
VLK_LOG_GROUP=@@LOG_GROUP@@
VLK_ACCESS_LOG=@@ACCESS_LOG@@
VLK_CACHE_LOG=@@CACHE_LOG@@

vlk_fail() {
  local msg="vpc-lambda-kit proxy boot FAILED: $*"
  echo "$msg" >&2
  echo "$msg" >/dev/console 2>/dev/null || true
  logger -t vlk-proxy-boot -p user.err "$msg" 2>/dev/null || true
  # Never serve with a half-made config or from an address the SaaS does not allowlist.
  systemctl disable --now squid >/dev/null 2>&1 || true
  exit 1
}

# exactHeaderRegex (components/squid-conf.ts): ^value$ with every ERE metacharacter backslash-escaped.
vlk_header_regex() {
  local s=$1 out='' c i
  for (( i = 0; i < ${#s}; i++ )); do
    c=${s:i:1}
    case $c in
      @@HEADER_META_CASE@@) out+="\\$c" ;;
      *) out+=$c ;;
    esac
  done
  printf '^%s$' "$out"
}

# renderSquidConf's rule: 1..VLK_HEADER_VALUE_MAX visible ASCII characters (no space, control or non-ASCII).
vlk_valid_header_value() {
  local re="^[!-~]{1,$VLK_HEADER_VALUE_MAX}\$"
  [[ $1 =~ $re ]]
}

vlk_squid_conf_template() {
  cat <<'@@HEREDOC_END@@'
@@SQUID_CONF_TEMPLATE@@
@@HEREDOC_END@@
}

# The template with the placeholder token replaced by the real value's exact-match regex.
vlk_render_conf() {
  local tmpl pre post
  vlk_valid_header_value "$1" || return 1
  tmpl=$(vlk_squid_conf_template; printf x)
  tmpl=${tmpl%x}
  pre=${tmpl%%"$VLK_HEADER_TOKEN"*}
  post=${tmpl#*"$VLK_HEADER_TOKEN"}
  [[ $pre != "$tmpl" && $post != *"$VLK_HEADER_TOKEN"* ]] || return 1
  printf '%s%s%s' "$pre" "$(vlk_header_regex "$1")" "$post"
}

vlk_retry() {
  local tries=$1 i
  shift
  for (( i = 1; ; i++ )); do
    "$@" && return 0
    (( i < tries )) || return 1
    sleep $(( i * 3 ))
  done
}

vlk_imds_token() {
  curl -fsS --retry 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 900' http://169.254.169.254/latest/api/token
}

vlk_imds() {
  curl -fsS --retry 5 -H "X-aws-ec2-metadata-token: $1" "http://169.254.169.254/latest/meta-data/$2"
}

# Placement "public": take a free EIP of this tier's pool. --no-allow-reassociation makes a race
# with a sibling instance fail instead of stealing its address; the loser tries the next one.
vlk_associate_eip() {
  local region=$1 instance=$2 i mine free alloc
  for (( i = 1; i <= 30; i++ )); do
    mine=$(aws ec2 describe-addresses --region "$region" --filters "Name=tag:$VLK_POOL_TAG_KEY,Values=$VLK_POOL_ID" "Name=instance-id,Values=$instance" --query 'Addresses[].AllocationId' --output text) || mine=''
    if [[ -n $mine && $mine != None ]]; then echo "pool EIP $mine already associated"; return 0; fi
    free=$(aws ec2 describe-addresses --region "$region" --filters "Name=tag:$VLK_POOL_TAG_KEY,Values=$VLK_POOL_ID" --query 'Addresses[?AssociationId==`null`].AllocationId' --output text) || free=''
    for alloc in $(printf '%s\n' $free | shuf); do
      [[ $alloc == eipalloc-* ]] || continue
      if aws ec2 associate-address --region "$region" --allocation-id "$alloc" --instance-id "$instance" --no-allow-reassociation >/dev/null; then
        echo "associated pool EIP $alloc"
        return 0
      fi
    done
    sleep 10
  done
  return 1
}

vlk_fetch_header_value() {
  aws secretsmanager get-secret-value --region "$1" --secret-id "$VLK_SECRET_ARN" "${VLK_SECRET_SELECTOR[@]}" --query SecretString --output text
}

# CloudWatch agent: ships Squid's access and cache logs to the tier's log group, one stream per
# instance and file. The instance role may write to that log group only.
vlk_log_agent_config() {
  cat <<EOF
{
  "agent": { "run_as_user": "root" },
  "logs": {
    "logs_collected": {
      "files": {
        "collect_list": [
          { "file_path": "$VLK_ACCESS_LOG", "log_group_name": "$VLK_LOG_GROUP", "log_stream_name": "{instance_id}/access.log", "timezone": "UTC" },
          { "file_path": "$VLK_CACHE_LOG", "log_group_name": "$VLK_LOG_GROUP", "log_stream_name": "{instance_id}/cache.log", "timezone": "UTC" }
        ]
      }
    }
  }
}
EOF
}

vlk_start_log_agent() {
  local dir=/opt/aws/amazon-cloudwatch-agent
  vlk_log_agent_config >"$dir/etc/vlk-squid-logs.json"
  "$dir/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s -c "file:$dir/etc/vlk-squid-logs.json"
}

vlk_main() {
  trap 'vlk_fail "command failed (exit $?) at line $LINENO"' ERR
  local token region instance value conf
  token=$(vlk_imds_token)
  region=$(vlk_imds "$token" placement/region)
  instance=$(vlk_imds "$token" instance-id)
  if [[ $VLK_PLACEMENT == public ]]; then
    vlk_associate_eip "$region" "$instance" || vlk_fail "no free EIP in pool $VLK_POOL_ID"
  fi
  vlk_retry 5 dnf install -y squid amazon-cloudwatch-agent || vlk_fail "dnf install squid amazon-cloudwatch-agent failed"
  value=$(vlk_retry 10 vlk_fetch_header_value "$region") || vlk_fail "cannot read the header secret $VLK_SECRET_ARN"
  vlk_valid_header_value "$value" || vlk_fail "the header secret is not 1..$VLK_HEADER_VALUE_MAX visible ASCII characters"
  conf=$(mktemp /etc/squid/.squid.conf.XXXXXX)
  vlk_render_conf "$value" >"$conf" || vlk_fail "cannot render squid.conf"
  unset value
  chown root:squid "$conf"
  chmod 0640 "$conf"
  squid -k parse -f "$conf" || vlk_fail "squid -k parse rejected the generated squid.conf"
  mv -f "$conf" /etc/squid/squid.conf
  systemctl enable --now squid
  vlk_start_log_agent || vlk_fail "the CloudWatch agent did not start (logs would not reach $VLK_LOG_GROUP)"
  for (( i = 0; i < 30; i++ )); do
    ss -ltnH "sport = :$VLK_PORT" | grep -q . && break
    sleep 1
  done
  systemctl is-active --quiet squid || vlk_fail "squid is not running"
  ss -ltnH "sport = :$VLK_PORT" | grep -q . || vlk_fail "squid does not listen on port $VLK_PORT"
  echo "vpc-lambda-kit proxy ready on port $VLK_PORT"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then vlk_main; fi
