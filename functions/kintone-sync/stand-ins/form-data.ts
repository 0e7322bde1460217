/**
 * What the kintone-sync bundle gives @kintone/rest-api-client in place of form-data (see ../bundle-options.ts). The
 * client only tests `params instanceof FormData` on the requests the sync makes, which no object passes; building
 * one (the file upload API) fails with this message instead of pulling form-data, mime-types and mime-db into
 * every cold start.
 */
export default class FormData {
  constructor() {
    throw new Error("the kintone-sync bundle does not upload files: form-data is not bundled");
  }
}
