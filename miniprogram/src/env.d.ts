/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
interface ImportMetaEnv {
  /** The API's origin for this build ('' = the page's own origin, as the H5 is served). */
  readonly VITE_API_BASE?: string
  /** '1' only in the builds `make dev` and `make test` serve: pay through the local WeChat Pay sandbox. */
  readonly VITE_PAY_SANDBOX?: string
}
interface ImportMeta {
  readonly env: ImportMetaEnv
}
