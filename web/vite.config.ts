// Builds the app into the Python package, where kabar serves it at /app (docs/web.md).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const olm = (file: string): string =>
  fileURLToPath(new URL(`./node_modules/@matrix-org/olm/${file}`, import.meta.url));

// libolm's olm.js is an Emscripten script that assigns globals (not strict-mode safe),
// so it is shipped as a classic script beside its WebAssembly module, not bundled.
function olmAssets(): Plugin {
  return {
    name: "kabar-olm-assets",
    generateBundle() {
      for (const file of ["olm.js", "olm.wasm"]) {
        this.emitFile({ type: "asset", fileName: `vendor/${file}`, source: readFileSync(olm(file)) });
      }
    },
  };
}

export default defineConfig({
  base: "/app/",
  plugins: [olmAssets()],
  build: {
    outDir: fileURLToPath(new URL("../src/kabar/http/static/app", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
});
