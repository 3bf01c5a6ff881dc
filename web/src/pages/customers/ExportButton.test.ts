import { describe, expect, it } from "vitest";
import { exportPercent } from "./ExportButton";

describe("the export's progress", () => {
  it("is the share of the matched customers written so far, never complete before the file is", () => {
    expect(exportPercent(0, 2000)).toBe(0);
    expect(exportPercent(500, 2000)).toBe(25);
    expect(exportPercent(2000, 2000)).toBe(99);
    expect(exportPercent(2100, 2000)).toBe(99); // customers registered while it ran
    expect(exportPercent(10, undefined)).toBe(99); // no total: an indeterminate bar
  });
});
