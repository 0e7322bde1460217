/**
 * The handler imports its transform from the bare specifier "kintone-sync-transform", which esbuild resolves at
 * bundle time through the alias `kintoneSyncBundleOptions()` returns (the shipped ./transform.ts by default). This
 * declaration gives the type checker that module's shape; the real contract is `TransformModule` in ./types.ts.
 */
declare module "kintone-sync-transform" {
  type Field = { type?: string; value: unknown };
  export function transform(
    record: Record<string, Field>,
    options: any,
  ): Record<string, { value: unknown }> | Promise<Record<string, { value: unknown }>>;
  export function parseOptions(raw: unknown): unknown;
  export function fields(options: any): string[] | undefined;
}
