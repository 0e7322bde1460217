/** renderSquidConf as a pure function: structure of the rendered text and input validation. */
import {
  exactHeaderRegex,
  renderSquidConf,
  SquidConfOptions,
  SQUID_ACL,
  HEADER_VALUE_MAX,
} from "../../components/squid-conf";

const base: SquidConfOptions = {
  port: 3128,
  headerName: "X-Lambda-Test",
  headerValue: "test",
  allowedDomains: [".example.com", "api.example.org"],
  clientCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
};

const lines = (conf: string) => conf.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
const access = (conf: string) => lines(conf).filter((l) => l.startsWith("http_access "));
const render = (over: Partial<SquidConfOptions>) => renderSquidConf({ ...base, ...over });
/** The thrown error's message (ConfigError or ConfigErrors). */
function errorOf(over: Partial<SquidConfOptions> | Record<string, unknown>): string {
  try {
    renderSquidConf({ ...base, ...over } as SquidConfOptions);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected renderSquidConf to throw");
}

describe("renderSquidConf: structure", () => {
  const conf = renderSquidConf(base);

  it("has exactly one http_access allow line, and it ANDs source, domain and header", () => {
    const allows = access(conf).filter((l) => l.startsWith("http_access allow"));
    expect(allows).toHaveLength(1);
    const words = allows[0].split(/\s+/);
    expect(words).toEqual(expect.arrayContaining([SQUID_ACL.clients, SQUID_ACL.domains, SQUID_ACL.header]));
    // no negation of the three gates
    expect(words).not.toContain(`!${SQUID_ACL.header}`);
  });

  it("ends with http_access deny all, and every other rule is a deny", () => {
    const rules = access(conf);
    expect(rules[rules.length - 1]).toBe("http_access deny all");
    expect(rules.filter((l) => !l.startsWith("http_access deny") && !l.startsWith("http_access allow"))).toEqual([]);
    expect(rules.indexOf(rules.find((l) => l.startsWith("http_access allow"))!)).toBe(rules.length - 2);
  });

  it("defines every ACL before http_access uses it", () => {
    const ls = lines(conf);
    const firstUse = ls.findIndex((l) => l.startsWith("http_access"));
    const defined = new Set(
      ls
        .slice(0, firstUse)
        .filter((l) => l.startsWith("acl "))
        .map((l) => l.split(/\s+/)[1]),
    );
    for (const rule of access(conf)) {
      for (const w of rule.split(/\s+/).slice(2)) {
        const name = w.replace(/^!/, "");
        if (name !== "all") expect(defined).toContain(name);
      }
    }
  });

  it("anchors and escapes the header value: a.b*c(d) → ^a\\.b\\*c\\(d\\)$", () => {
    const c = render({ headerValue: "a.b*c(d)" });
    expect(c).toContain(`acl ${SQUID_ACL.header} req_header X-Lambda-Test ^a\\.b\\*c\\(d\\)$\n`);
    expect(exactHeaderRegex("test")).toBe("^test$");
    expect(exactHeaderRegex("[x]{2}|y+?^$\\")).toBe("^\\[x\\]\\{2\\}\\|y\\+\\?\\^\\$\\\\$");
  });

  it("the escaped regex matches exactly the value for every visible ASCII character (checked with JS RegExp)", () => {
    let all = "";
    for (let c = 0x21; c <= 0x7e; c++) all += String.fromCharCode(c);
    for (const v of [all, "test", "a.b*c(d)", "${process_number}", "#x", '"q"']) {
      const re = new RegExp(exactHeaderRegex(v));
      expect(re.test(v)).toBe(true);
      for (const near of [
        `x${v}`,
        `${v}x`,
        v.slice(1),
        v.replace(/./, "Z"),
        v.toUpperCase() === v ? v.toLowerCase() + "!" : v.toUpperCase(),
      ]) {
        if (near !== v) expect(re.test(near)).toBe(false);
      }
    }
  });

  it("the regex token never starts with '#' or '\"' and the secret never creates a ${macro}", () => {
    const c = render({ headerValue: '#"${service_name}' });
    const line = c.split("\n").find((l) => l.startsWith(`acl ${SQUID_ACL.header}`))!;
    expect(line.split(" ")[4]).toBe('^#"\\$\\{service_name\\}$');
    expect(line).not.toContain("${");
  });

  it("writes one domain per line with -n (no reverse DNS for IP-literal URLs), lower-cased", () => {
    const c = render({ allowedDomains: [".Example.COM", "api.example.org"] });
    expect(lines(c).filter((l) => l.includes(" dstdomain "))).toEqual([
      `acl ${SQUID_ACL.domains} dstdomain -n .example.com`,
      `acl ${SQUID_ACL.domains} dstdomain -n api.example.org`,
    ]);
  });

  it("restricts CONNECT to connectPorts (default 443) and plain HTTP to safePorts (default 80 443) and http/https", () => {
    expect(conf).toContain(`acl ${SQUID_ACL.connectPorts} port 443\n`);
    expect(conf).toContain(`acl ${SQUID_ACL.safePorts} port 80 443\n`);
    expect(conf).toContain(`http_access deny ${SQUID_ACL.connect} !${SQUID_ACL.connectPorts}\n`);
    expect(conf).toContain(`http_access deny !${SQUID_ACL.connect} !${SQUID_ACL.safePorts}\n`);
    expect(conf).toContain(`http_access deny !${SQUID_ACL.connect} !${SQUID_ACL.webProto}\n`);
    const c = render({ connectPorts: [443, 8443], safePorts: [80] });
    expect(c).toContain(`acl ${SQUID_ACL.connectPorts} port 443 8443\n`);
    expect(c).toContain(`acl ${SQUID_ACL.safePorts} port 80\n`);
  });

  it("strips the secret header and client addresses, disables caching and the pinger", () => {
    for (const l of [
      "request_header_access X-Lambda-Test deny all",
      "forwarded_for delete",
      "via off",
      "cache deny all",
      "pinger_enable off",
    ]) {
      expect(lines(conf)).toContain(l);
    }
  });

  it("denies link-local always and loopback destinations by default (on the allow line, after the cheap ACLs)", () => {
    const allow = access(conf).find((l) => l.startsWith("http_access allow"))!;
    expect(allow).toBe(
      `http_access allow ${SQUID_ACL.clients} ${SQUID_ACL.domains} ${SQUID_ACL.header} !${SQUID_ACL.toLinkLocal} !${SQUID_ACL.toLocalhost}`,
    );
    const open = access(render({ blockLocalDestinations: false })).find((l) => l.startsWith("http_access allow"))!;
    expect(open).toBe(
      `http_access allow ${SQUID_ACL.clients} ${SQUID_ACL.domains} ${SQUID_ACL.header} !${SQUID_ACL.toLinkLocal}`,
    );
  });

  it("plain port without proxyProtocolFrom; require-proxy-header + proxy_protocol_access with it", () => {
    expect(conf).toContain("http_port 3128\n");
    expect(conf).not.toContain("proxy_protocol_access");
    const c = render({ proxyProtocolFrom: ["10.0.10.0/24", "10.0.11.0/24"], listenAddress: "0.0.0.0" });
    expect(lines(c)).toEqual(
      expect.arrayContaining([
        "http_port 0.0.0.0:3128 require-proxy-header",
        `acl ${SQUID_ACL.proxyLb} src 10.0.10.0/24 10.0.11.0/24`,
        `proxy_protocol_access allow ${SQUID_ACL.proxyLb}`,
        "proxy_protocol_access deny all",
      ]),
    );
    const ls = lines(c);
    expect(ls.indexOf("proxy_protocol_access deny all")).toBe(
      ls.indexOf(`proxy_protocol_access allow ${SQUID_ACL.proxyLb}`) + 1,
    );
  });

  it("uses Amazon Linux 2023 package paths by default, and the given ones otherwise", () => {
    expect(lines(conf)).toEqual(
      expect.arrayContaining([
        "pid_filename /run/squid.pid",
        "access_log daemon:/var/log/squid/access.log squid",
        "cache_log /var/log/squid/cache.log",
        "coredump_dir /var/spool/squid",
      ]),
    );
    expect(conf).not.toMatch(/^(cache_effective_user|hosts_file|dns_nameservers|shutdown_lifetime)/m);
    const c = render({
      pidFile: "/tmp/x/p.pid",
      hostsFile: "/tmp/x/hosts",
      dnsNameservers: ["127.0.0.1"],
      cacheEffectiveUser: "proxy",
      shutdownLifetimeSeconds: 0,
    });
    expect(lines(c)).toEqual(
      expect.arrayContaining([
        "pid_filename /tmp/x/p.pid",
        "hosts_file /tmp/x/hosts",
        "dns_nameservers 127.0.0.1",
        "cache_effective_user proxy",
        "shutdown_lifetime 0 seconds",
      ]),
    );
  });

  it("keeps every line under Squid's 2048-byte limit even with the longest secret and 1000 domains", () => {
    const allowedDomains = Array.from({ length: 1000 }, (_, i) => `api${i}.example${i}.com`);
    const c = render({ headerValue: "$".repeat(HEADER_VALUE_MAX), allowedDomains });
    expect(Math.max(...c.split("\n").map((l) => Buffer.byteLength(l)))).toBeLessThan(2048);
  });

  it("is deterministic and pure (same input → same text; input not mutated)", () => {
    const input: SquidConfOptions = JSON.parse(
      JSON.stringify({ ...base, allowedDomains: [".B.example.com", "a.example.com"] }),
    );
    const copy = JSON.parse(JSON.stringify(input));
    expect(renderSquidConf(input)).toBe(renderSquidConf(input));
    expect(input).toEqual(copy);
  });
});

describe("renderSquidConf: validation names the bad key/entry and the fix", () => {
  it.each<[string, Partial<SquidConfOptions>, RegExp]>([
    [
      "duplicate domain",
      { allowedDomains: ["api.example.org", "api.example.org"] },
      /allowedDomains\[1\]: "api\.example\.org" duplicates allowedDomains\[0\].*Fix: remove allowedDomains\[1\]/,
    ],
    [
      "case-duplicate domain",
      { allowedDomains: ["API.example.org", "api.EXAMPLE.org"] },
      /allowedDomains\[1\].*duplicates allowedDomains\[0\].*case-insensitive/,
    ],
    [
      "host covered by wildcard",
      { allowedDomains: [".example.com", "api.example.com"] },
      /allowedDomains\[1\]: "api\.example\.com" is already covered by allowedDomains\[0\] "\.example\.com"/,
    ],
    [
      "wildcard listed after its own apex",
      { allowedDomains: ["example.com", ".example.com"] },
      /allowedDomains\[0\]: "example\.com" is already covered by allowedDomains\[1\]/,
    ],
    [
      "nested wildcard",
      { allowedDomains: [".a.example.com", ".example.com"] },
      /allowedDomains\[0\]: "\.a\.example\.com" is already covered/,
    ],
    [
      "star wildcard",
      { allowedDomains: ["*.example.com"] },
      /allowedDomains\[0\].*'\*' wildcard.*Fix: write "\.example\.com"/,
    ],
    [
      "URL instead of domain",
      { allowedDomains: ["https://api.example.com/"] },
      /allowedDomains\[0\].*not a bare domain/,
    ],
    ["IP address", { allowedDomains: ["203.0.113.10"] }, /allowedDomains\[0\].*IP address/],
    ["single label", { allowedDomains: [".com"] }, /allowedDomains\[0\].*single label/],
    ["bad label", { allowedDomains: ["api.-example.com"] }, /allowedDomains\[0\].*invalid label "-example"/],
    ["underscore", { allowedDomains: ["my_api.example.com"] }, /allowedDomains\[0\].*invalid label "my_api"/],
    [
      "trailing dot",
      { allowedDomains: ["api.example.com."] },
      /allowedDomains\[0\].*ends with a dot.*Fix: write "api\.example\.com"/,
    ],
    ["whitespace", { allowedDomains: [" api.example.com"] }, /allowedDomains\[0\].*whitespace/],
    ["unicode", { allowedDomains: ["bücher.example"] }, /allowedDomains\[0\].*punycode/],
    ["empty whitelist", { allowedDomains: [] }, /allowedDomains: must be a non-empty array/],
    ["CIDR with host bits", { clientCidrs: ["10.0.1.5/24"] }, /clientCidrs\[0\]: .*host bits set.*10\.0\.1\.0\/24/],
    ["plain IP as CIDR", { clientCidrs: ["10.0.1.5"] }, /clientCidrs\[0\].*Fix: write "10\.0\.1\.5\/32"/],
    [
      "nested CIDR",
      { clientCidrs: ["10.0.0.0/16", "10.0.1.0/24"] },
      /clientCidrs\[1\]: "10\.0\.1\.0\/24" lies inside clientCidrs\[0\]/,
    ],
    [
      "duplicate CIDR",
      { clientCidrs: ["10.0.1.0/24", "10.0.1.0/24"] },
      /clientCidrs\[1\]: "10\.0\.1\.0\/24" duplicates clientCidrs\[0\]/,
    ],
    ["any source", { clientCidrs: ["0.0.0.0/0"] }, /clientCidrs\[0\].*every IPv4 address/],
    ["no clients", { clientCidrs: [] }, /clientCidrs: must be a non-empty array/],
    [
      "empty proxyProtocolFrom",
      { proxyProtocolFrom: [] },
      /proxyProtocolFrom: must be a non-empty array.*omit proxyProtocolFrom/,
    ],
    ["bad LB CIDR", { proxyProtocolFrom: ["10.0.10.0/33"] }, /proxyProtocolFrom\[0\]/],
    ["bad port", { port: 70000 }, /port: 70000 is not a TCP port/],
    ["bad connect port", { connectPorts: [443, 0] }, /connectPorts\[1\]: 0 is not a TCP port/],
    ["duplicate safe port", { safePorts: [80, 80] }, /safePorts\[1\]: 80 is listed twice/],
    ["header name with space", { headerName: "X Lambda" }, /headerName: "X Lambda" is not a valid header token/],
    ["header name with colon", { headerName: "X-Lambda:" }, /headerName: .*not a valid header token/],
    ["reserved header name", { headerName: "Authorization" }, /headerName: "Authorization" is a standard HTTP header/],
    ["relative log path", { accessLog: "access.log" }, /accessLog: "access\.log" is not an absolute path/],
    ["root as effective user", { cacheEffectiveUser: "root" }, /cacheEffectiveUser/],
    ["bad nameserver", { dnsNameservers: ["resolver"] }, /dnsNameservers\[0\]/],
    [
      "negative shutdown lifetime",
      { shutdownLifetimeSeconds: -1 },
      /shutdownLifetimeSeconds: -1 is not a whole number of seconds/,
    ],
  ])("%s", (_name, over, expected) => {
    expect(errorOf(over)).toMatch(expected);
  });

  it.each<[string, string, RegExp]>([
    ["a space", "sec ret-value", /headerValue: contains a space at position 3/],
    ["a tab", "sec\tret", /headerValue: contains a tab at position 3/],
    ["a newline", "secret\n", /headerValue: contains control character 0x0a at position 6/],
    ["non-ASCII", "sécret", /headerValue: contains a non-ASCII character at position 1/],
  ])("header value with %s is rejected by position, without echoing the secret", (_what, value, expected) => {
    const msg = errorOf({ headerValue: value });
    expect(msg).toMatch(expected);
    expect(msg).toMatch(/Fix: use only visible ASCII/);
    expect(msg).not.toContain(value.trim());
    expect(msg).not.toContain("ret");
  });

  it("empty and over-long header values are rejected", () => {
    expect(errorOf({ headerValue: "" })).toMatch(/headerValue: is empty/);
    expect(errorOf({ headerValue: "a".repeat(HEADER_VALUE_MAX + 1) })).toMatch(
      new RegExp(`headerValue: is ${HEADER_VALUE_MAX + 1} characters long`),
    );
    expect(errorOf({ headerValue: undefined as unknown as string })).toMatch(/headerValue: must be a string/);
  });

  it("reports all problems at once", () => {
    const msg = errorOf({
      port: 0,
      allowedDomains: ["*.x.com", "ok.example.com"],
      clientCidrs: ["10.0.0.1/8"],
      headerName: "Bad Name",
    });
    expect(msg).toMatch(/4 problems/);
    for (const k of ["port:", "allowedDomains[0]", "clientCidrs[0]", "headerName:"]) expect(msg).toContain(k);
  });

  it("accepts the seed's own example once the OR-bug is fixed (X-Lambda-Test: test, three wildcard domains)", () => {
    const c = render({ allowedDomains: [".microsoft.com", ".windows.com", ".windowsupdate.com"] });
    expect(lines(c).filter((l) => l.includes("dstdomain"))).toHaveLength(3);
  });
});

test("renderSquidConf is part of the kit's public surface (components/index.ts)", () => {
  const index = require("../../components");
  expect(index.renderSquidConf).toBe(renderSquidConf);
  expect(typeof index.SquidProxyTier).toBe("function");
});
