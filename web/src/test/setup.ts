import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => cleanup());
// a loaded CI machine (antd in jsdom is CPU-heavy): wait for async UI up to 15 s, not 1 s
configure({ asyncUtilTimeout: 15_000 });

// jsdom lacks these; antd's responsive helpers ask for them
if (!window.matchMedia) {
  window.matchMedia = (query: string) => ({
    matches: false, media: query, onchange: null,
    addListener: () => undefined, removeListener: () => undefined,
    addEventListener: () => undefined, removeEventListener: () => undefined, dispatchEvent: () => false,
  }) as MediaQueryList;
}
if (!("ResizeObserver" in window)) {
  (window as unknown as { ResizeObserver: unknown }).ResizeObserver = class { observe() {} unobserve() {} disconnect() {} };
}
window.getComputedStyle = ((orig) => (el: Element) => orig(el))(window.getComputedStyle);
