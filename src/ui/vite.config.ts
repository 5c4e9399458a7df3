// Vite config for the web UI: sources in src/ui, output in src/ui/dist, served by the API at "/".
// JSX goes through Vite's built-in transform (no React plugin needed: no fast refresh in production).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
// `vite dev` proxies the API to a running agent (or to `node dist/bench/ui-render.js --serve`).
const apiTarget = process.env.DHRISHTI_API ?? 'http://127.0.0.1:7979';

export default defineConfig({
  root,
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: apiTarget, ws: true, changeOrigin: false } },
  },
});
