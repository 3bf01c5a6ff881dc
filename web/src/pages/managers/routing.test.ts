import { describe, expect, it } from "vitest";
import type { RuleRow } from "../../services/assignment";
import { languageMatches, routeFor } from "./routing";
import { COUNTRY, invalidEntries, LANGUAGE } from "./validation";

const rule = (id: string, position: number, over: Partial<RuleRow["definition"]> = {}, enabled = true): RuleRow => ({
  rule_id: id, version: 1, position, enabled, changed_at: "", changed_by: null,
  definition: { position, strategy: "round_robin", enabled, regions: [], channels: [], languages: [], referral_codes: [], ...over },
});

describe("route preview", () => {
  const rules = [
    rule("fallback", 1000, { team_id: "T-POOL" }),
    rule("hk-zh", 10, { regions: ["HK"], languages: ["zh"], team_id: "T-HK" }),
    rule("qr", 1, { referral_codes: ["mgr-cathy"], manager_id: "M-HK-2" }),
    rule("off", 0, {}, false),
  ];
  it("takes the first enabled rule in order whose conditions all hold", () => {
    expect(routeFor(rules, { region: "HK", language: "zh-HK" })?.rule_id).toBe("hk-zh");
    expect(routeFor(rules, { region: "HK", language: "en" })?.rule_id).toBe("fallback");
    expect(routeFor(rules, { region: "SG", referral_code: " MGR-Cathy " })?.rule_id).toBe("qr");
    expect(routeFor([rules[1]], { region: "SG", language: "zh" })).toBeNull();
  });
  it("matches institutions like the router: case-insensitively, and a customer without one never matches", () => {
    const rs = [rule("inst", 5, { institutions: ["INST-A"], team_id: "T-INST" }), rule("fallback", 1000, { team_id: "T-POOL" })];
    expect(routeFor(rs, { institution_id: "inst-a" })?.rule_id).toBe("inst");
    expect(routeFor(rs, { institution_id: "INST-B" })?.rule_id).toBe("fallback");
    expect(routeFor(rs, {})?.rule_id).toBe("fallback");
    expect(routeFor([rule("old", 1)], { institution_id: "INST-A" })?.rule_id).toBe("old"); // saved before the condition existed
  });
  it("matches segments like the router: any of the rule's ids, exactly; a customer in none never matches", () => {
    const rs = [rule("seg", 5, { segments: ["seg-a", "seg-b"], team_id: "T-VIP" }), rule("fallback", 1000, { team_id: "T-POOL" })];
    expect(routeFor(rs, { segments: ["seg-x", "seg-b"] })?.rule_id).toBe("seg");
    expect(routeFor(rs, { segments: ["SEG-A"] })?.rule_id).toBe("fallback");
    expect(routeFor(rs, {})?.rule_id).toBe("fallback");
  });
  it("matches languages like the router: zh covers zh-HK, zh-hk only zh-HK", () => {
    expect(languageMatches(["zh"], "zh-Hant")).toBe(true);
    expect(languageMatches(["zh-hk"], "zh")).toBe(false);
    expect(languageMatches([], null)).toBe(true);
  });
  it("names the entries the service would refuse", () => {
    expect(invalidEntries(["HK", "hk", "SGP"], COUNTRY)).toEqual(["hk", "SGP"]);
    expect(invalidEntries(["en", "zh-HK", "english"], LANGUAGE)).toEqual(["english"]);
  });
});
