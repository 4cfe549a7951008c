import { defineConfig } from 'vitest/config';

// `npm run dev` serves the page with hot reload and forwards the API to a running
// `sam2 serve` (SAM2_API, default http://localhost:7263), so both share one origin.
const api = process.env.SAM2_API ?? 'http://localhost:7263';
const forwarded = ['/graphql', '/propagate_in_video', '/gallery', '/posters', '/uploads', '/export', '/healthy'];

export default defineConfig({
  // Relative asset URLs: the page works wherever `sam2 serve` mounts it.
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: {
    proxy: Object.fromEntries(forwarded.map((p) => [p, { target: api, changeOrigin: true }])),
  },
  test: {
    testTimeout: 30_000, // the C helpers and ffprobe share the machine with other jobs
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
  },
});
