/// <reference types="vite/client" />
interface ImportMetaEnv {
  readonly VITE_UPLOAD_API: string
  readonly VITE_STATUS_API: string
}
interface ImportMeta {
  readonly env: ImportMetaEnv
}