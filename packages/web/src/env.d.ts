/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_API_BASE?: string;
  readonly VITE_UPLOAD_API?: string;
  readonly VITE_STATUS_API?: string;
  readonly VITE_AUTH_ISSUER?: string;
  readonly VITE_AUTH_CLIENT_ID?: string;
  readonly VITE_AUTH_AUDIENCE?: string;
  readonly VITE_AUTH_SCOPE?: string;
}

// hls.js ships types for its main entry only; the light build has the same API.
declare module "hls.js/light" {
  import Hls from "hls.js";
  export default Hls;
}
