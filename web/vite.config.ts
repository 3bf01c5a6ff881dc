/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` talks to a running gateway (make run) for /api, /config.json and /dev-signin.
const gateway = process.env.WHALE_GATEWAY_URL ?? "http://127.0.0.1:8100";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": gateway,
      "/dev-signin": gateway,
      "/config.json": gateway,
    },
  },
  build: {
    target: "es2022",
    sourcemap: false,
    manifest: true,
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    testTimeout: 180000, // CPU-bound (antd in jsdom) on a shared, loaded machine
    // antd in jsdom is CPU-heavy: one worker keeps a loaded machine from timing tests out
    fileParallelism: false,
  },
});
