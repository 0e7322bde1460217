/**
 * Walks the SaaS's pages as SAAS_PAGINATION describes (see `Pagination` in ./config.ts) and yields each page's
 * records, found at SAAS_RECORDS_PATH. Every way a walk could silently lose or repeat data is an error instead:
 * a records path that is not an array, a record that is not a JSON object (Athena's JSON SerDe reads one object
 * per line), a cursor or next link seen before, a next link to another origin, or more than SAAS_MAX_PAGES pages.
 */
import type { ExportConfig } from "./config";
import { ExportError } from "./errors";
import { getPath, shapeOf } from "./json-path";
import type { Logger } from "../shared/log";
import type { SaasClient, SaasResponse } from "./saas-client";

export interface Page {
  /** 1-based. */
  number: number;
  records: Record<string, unknown>[];
  /**
   * Set on the last page when the walk ended in a way that looks like a SaaS fault rather than the end of the data:
   * with cursor or link pagination, a page without records after a page with records, on which the SaaS stopped
   * giving a next cursor/link (a truncated listing answers exactly like that). Publication refuses such a run
   * unless SAAS_EMPTY_LAST_PAGE=normal says the SaaS always ends that way.
   */
  anomaly?: string;
}

export async function* fetchPages(
  client: SaasClient,
  config: Pick<ExportConfig, "saasUrl" | "pagination" | "recordsPath" | "maxPages"> & {
    emptyLastPageIsNormal?: boolean;
  },
  log: Logger,
  beforePage: (n: number) => void,
): AsyncGenerator<Page> {
  const first = new URL(config.saasUrl.href);
  const p = config.pagination;
  let pageNo = 1;
  if (p.kind === "page") {
    const start = first.searchParams.get(p.param);
    pageNo = start === null ? 1 : Number(start);
    if (!Number.isInteger(pageNo) || pageNo < 0) {
      throw new ExportError(
        "config",
        `SAAS_URL sets the page parameter "${p.param}" to "${start}", which is not a page number: remove it (pages start at 1) or set a whole number.`,
      );
    }
    first.searchParams.set(p.param, String(pageNo));
  }
  const seen = new Set<string>();
  let url: URL | undefined = first;
  let before = 0;
  for (let n = 1; url; n++) {
    if (n > config.maxPages) {
      throw new ExportError(
        "data",
        `the SaaS still had a next page after SAAS_MAX_PAGES=${config.maxPages} pages: raise SAAS_MAX_PAGES if the data set is that large, ` +
          `otherwise SAAS_PAGINATION (${describe(config)}) does not find the end of the data.`,
      );
    }
    beforePage(n);
    seen.add(url.href);
    const what = `page ${n}`;
    const res = await client.getJson(url, what);
    const records = recordsOf(res, config, n);
    log.debug("page fetched", { page: n, records: records.length, bytes: res.bytes });

    let next: URL | undefined;
    switch (p.kind) {
      case "none":
        next = undefined;
        break;
      case "link": {
        const href = nextLink(res.headers.link);
        if (href === undefined) break;
        next = new URL(href, url);
        if (next.origin !== first.origin) {
          throw new ExportError(
            "data",
            `page ${n}'s Link rel="next" points to ${next.origin}, not SAAS_URL's origin ${first.origin}: the export does not send the credential to another host.`,
          );
        }
        break;
      }
      case "cursor": {
        const cursor = getPath(res.body, p.cursorPath);
        if (cursor === undefined && n === 1 && records.length > 0) {
          log.warn("no cursor on the first page; treating it as the only page", {
            cursorPath: p.cursorPath.text,
            body: shapeOf(res.body),
          });
        }
        if (cursor === undefined || cursor === null || cursor === "" || cursor === false) break;
        if (typeof cursor !== "string" && typeof cursor !== "number") {
          throw new ExportError(
            "data",
            `page ${n}'s next cursor at ${p.cursorPath.text} (SAAS_PAGINATION) is ${shapeOf(cursor)}, not a string or number.`,
          );
        }
        next = new URL(first.href);
        next.searchParams.set(p.param, String(cursor));
        break;
      }
      case "page":
        if (records.length > 0) {
          next = new URL(first.href);
          next.searchParams.set(p.param, String(pageNo + n));
        }
        break;
    }
    if (next && seen.has(next.href)) {
      throw new ExportError(
        "data",
        `page ${n} leads back to a page already read (${next.pathname}${next.search ? "?…" : ""}): the SaaS repeats its ${p.kind === "cursor" ? "cursor" : "next link"}, ` +
          `so the export stops rather than loop; check SAAS_PAGINATION (${describe(config)}).`,
      );
    }
    let anomaly: string | undefined;
    if (
      !next &&
      records.length === 0 &&
      n > 1 &&
      before > 0 &&
      (p.kind === "cursor" || p.kind === "link") &&
      !config.emptyLastPageIsNormal
    ) {
      anomaly =
        `page ${n} had no records and no next ${p.kind === "cursor" ? "cursor" : "link"}, right after page ${n - 1} had ${before}: ` +
        `the SaaS may have cut the listing short (set SAAS_EMPTY_LAST_PAGE=normal if it always ends with an empty page)`;
      log.warn("the walk ended on an empty page", { page: n, previousPageRecords: before });
    }
    yield { number: n, records, anomaly };
    before = records.length;
    url = next;
  }
}

function recordsOf(res: SaasResponse, config: Pick<ExportConfig, "recordsPath">, n: number): Record<string, unknown>[] {
  const records = getPath(res.body, config.recordsPath);
  if (!Array.isArray(records)) {
    throw new ExportError(
      "data",
      `page ${n} has ${records === undefined ? "nothing" : shapeOf(records)} at SAAS_RECORDS_PATH=${config.recordsPath.text}, not an array of records ` +
        `(the page is ${shapeOf(res.body)}): set SAAS_RECORDS_PATH to where the records are, e.g. data.items.`,
    );
  }
  const bad = records.findIndex((r) => r === null || typeof r !== "object" || Array.isArray(r));
  if (bad >= 0) {
    throw new ExportError(
      "data",
      `record ${bad} of page ${n} (at SAAS_RECORDS_PATH=${config.recordsPath.text}) is ${shapeOf(records[bad])}: each record must be a JSON object, ` +
        "one line of NDJSON for Athena; point SAAS_RECORDS_PATH at the array of objects.",
    );
  }
  return records as Record<string, unknown>[];
}

/** The target of `rel="next"` in an RFC 8288 Link header (rel may list several relation types). */
export function nextLink(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(", ") : header;
  for (const m of text.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    for (const param of m[2].split(";")) {
      const pm = /^\s*rel\s*=\s*(?:"([^"]*)"|([^\s";]+))\s*$/i.exec(param);
      if (pm && (pm[1] ?? pm[2]).toLowerCase().split(/\s+/).includes("next")) return m[1];
    }
  }
  return undefined;
}

function describe(config: Pick<ExportConfig, "pagination">): string {
  const p = config.pagination;
  return p.kind === "cursor"
    ? `cursor:${p.cursorPath.text}:${p.param}`
    : p.kind === "page"
      ? `page:${p.param}`
      : p.kind;
}
