import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// One build serves every stage: the API URLs come from /config.json at run time, never from here.
// `npm run dev` borrows config.json from a running local stage (`make up`), or CHATSTACK_WEB_URL.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    host: "127.0.0.1",
    proxy: { "/config.json": process.env.CHATSTACK_WEB_URL ?? "http://127.0.0.1:8002" },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
