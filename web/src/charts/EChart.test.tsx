import { act, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// ECharts itself needs a canvas (jsdom has none): a fake core records what the component asks of it
const calls = vi.hoisted(() => ({ init: 0, setOption: [] as unknown[], resize: 0, dispose: 0, finished: [] as (() => void)[] }));
vi.mock("./echarts", () => ({
  echarts: {
    init: () => {
      calls.init += 1;
      return {
        on: (_: string, fn: () => void) => calls.finished.push(fn),
        setOption: (o: unknown) => calls.setOption.push(o),
        resize: () => { calls.resize += 1; },
        dispose: () => { calls.dispose += 1; },
      };
    },
  },
}));

import { EChart } from "./EChart";

let observers: (() => void)[] = [];
let size = { w: 0, h: 0 };
beforeEach(() => {
  Object.assign(calls, { init: 0, setOption: [], resize: 0, dispose: 0, finished: [] });
  observers = [];
  size = { w: 0, h: 0 };
  vi.stubGlobal("ResizeObserver", class { constructor(cb: () => void) { observers.push(cb); } observe() {} disconnect() {} });
  vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockImplementation(() => size.w);
  vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockImplementation(() => size.h);
});
afterEach(() => { vi.unstubAllGlobals(); vi.restoreAllMocks(); });

const option = (n: number) => ({ series: Array.from({ length: n }, (_, i) => ({ type: "bar", name: `s${i}`, data: [i] })) });

describe("EChart", () => {
  it("waits for its container to have a size before drawing (a 0×0 chart stays blank)", async () => {
    render(<EChart option={option(3)} label="chart" />);
    const box = screen.getByRole("img", { name: "chart" });
    expect(box).toHaveAttribute("data-series", "3");
    await waitFor(() => expect(observers.length).toBe(1)); // the chunk is loaded and the box observed
    expect(calls.init).toBe(0);
    size = { w: 800, h: 300 };
    act(() => observers[0]());
    expect(calls.init).toBe(1);
    expect(calls.setOption).toHaveLength(1);
    expect(box).not.toHaveAttribute("data-drawn");
    act(() => calls.finished.forEach((f) => f()));
    expect(box).toHaveAttribute("data-drawn", "true");
    act(() => observers[0]()); // a later resize resizes the same chart
    expect(calls.init).toBe(1);
    expect(calls.resize).toBe(1);
  });

  it("sets a new option on the same chart instead of re-creating it, and disposes it when unmounted", async () => {
    size = { w: 800, h: 300 };
    const { rerender, unmount } = render(<EChart option={option(1)} label="chart" />);
    await waitFor(() => expect(calls.init).toBe(1));
    rerender(<EChart option={option(2)} label="chart" />);
    expect(calls.init).toBe(1);
    expect(calls.setOption).toHaveLength(2);
    expect((calls.setOption[1] as { series: unknown[] }).series).toHaveLength(2);
    expect(screen.getByRole("img", { name: "chart" })).toHaveAttribute("data-series", "2");
    unmount();
    expect(calls.dispose).toBe(1);
  });
});
