import { describe, expect, it } from "vitest";
import { pkceChallenge } from "./oidc";
import { seesLevels } from "../pages/summary/RollupSection";
import { can, decodeClaims, isExpired, loadSession, makeSession, saveSession } from "./session";

const b64url = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const token = (claims: object) => `${b64url("{}")}.${b64url(JSON.stringify(claims))}.x`;

describe("session", () => {
  it("reads the principal's claims from the token", () => {
    const c = decodeClaims(token({ sub: "M-HK-1", roles: ["manager"], perms: ["TaskWrite"], scope: "own", team: "T-HK", exp: 4102444800, name: "Ben 陳" }));
    expect(c).toMatchObject({ sub: "M-HK-1", roles: ["manager"], scope: "own", team: "T-HK", name: "Ben 陳" });
    const s = makeSession(token({ sub: "x", perms: ["TaskWrite"], exp: 4102444800 }), "dev");
    expect(can(s, "TaskWrite")).toBe(true);
    expect(can(s, "AssignmentManage")).toBe(false);
    expect(can(null, "TaskWrite")).toBe(false);
    expect(isExpired(makeSession(token({ sub: "x", exp: 1 }), "dev"))).toBe(true);
  });

  it("names an OpenID Connect session by its staff id and takes its rights from the access service", () => {
    const kc = token({ sub: "c19e1a7b-opaque", staff_id: "M-HK-1", scope: "openid profile", exp: 4102444800 });
    expect(decodeClaims(kc)).toMatchObject({ sub: "M-HK-1", perms: [], scope: "own" });
    const s = makeSession(kc, "oidc", "id", { staff_id: "M-HK-1", roles: ["team_lead"], permissions: ["AssignmentManage"],
      scope: "team", teams: ["T-HK"], team_id: "T-HK" });
    expect(can(s, "AssignmentManage")).toBe(true);
    expect(s.claims).toMatchObject({ sub: "M-HK-1", roles: ["team_lead"], scope: "team", teams: ["T-HK"], team: "T-HK" });
  });

  it("decides the roll-up by organisation level from the rights GET /access/me gave, also after a reload", () => {
    const kc = token({ sub: "c19e1a7b-opaque", staff_id: "M-1", scope: "openid profile", exp: 4102444800 });
    const rights = (scope: "own" | "team" | "all", teams: string[]) => ({ staff_id: "M-1", roles: ["r"], permissions: ["ClientProfileReadOnly"], scope, teams, team_id: null });
    expect(seesLevels(makeSession(kc, "oidc", "id", rights("all", [])))).toBe(true);
    expect(seesLevels(makeSession(kc, "oidc", "id", rights("team", ["T-HK", "T-SG"])))).toBe(true);
    expect(seesLevels(makeSession(kc, "oidc", "id", rights("team", ["T-HK"])))).toBe(false);
    expect(seesLevels(makeSession(kc, "oidc", "id", rights("own", [])))).toBe(false);
    // the access service did not answer: the token's OAuth `scope` string is no data scope
    expect(seesLevels(makeSession(kc, "oidc", "id"))).toBe(false);
    saveSession(makeSession(kc, "oidc", "id", rights("team", ["T-HK", "T-SG"])));
    expect(seesLevels(loadSession())).toBe(true);
    saveSession(null);
  });

  it("refuses something that is not a token", () => {
    expect(() => decodeClaims("nope")).toThrow();
    expect(() => decodeClaims(token({ exp: 1 }))).toThrow(/sub/);
  });
});

describe("PKCE", () => {
  it("derives the S256 challenge of RFC 7636 appendix B", async () => {
    expect(await pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });
});
