import { describe, expect, it } from "vitest";
import { activeFilterCount, DEFAULT_FILTERS, filtersToParams, parseFilters, toFilterQuery, toListQuery } from "./filters";

describe("customer filters ↔ URL", () => {
  it("round-trips every filter through the URL", () => {
    const url = "q=ann&stage=funded&stage=traded&user_region=HK&active_region=SG&channel=referral&verification_status=verified"
      + "&account_status=opened&risk_rating=balanced&risk_rating=aggressive&tag=vip&tag=hot+lead&manager_id=M-HK-1&team_id=T-HK&unassigned=false&referrer_customer_id=C1&segment=seg1"
      + "&registered_from=2026-11-01&registered_to=2026-11-30&assets_currency=USD&assets_min=1000&assets_max=5000"
      + "&deposit_currency=HKD&deposit_min=10&deposit_max=20&asset_band=100000-1000000&asset_band=10000000-&ada_band=0-100000"
      + "&age_min=30&age_max=45&holds=0700.HK&sort=assets&order=asc&limit=100";
    const f = parseFilters(new URLSearchParams(url));
    expect(f.stage).toEqual(["funded", "traded"]);
    expect(f.tag).toEqual(["vip", "hot lead"]);
    expect(f.unassigned).toBe(false);
    expect(f.sort).toBe("assets");
    expect(f.limit).toBe(100);
    expect(parseFilters(filtersToParams(f))).toEqual(f);
    expect(f.risk_rating).toEqual(["balanced", "aggressive"]);
    expect(toFilterQuery(f).risk_rating).toEqual(["balanced", "aggressive"]);
    expect(toFilterQuery(f).segment).toBe("seg1");
    expect(f.asset_band).toEqual(["100000-1000000", "10000000-"]);
    expect(toFilterQuery(f).ada_band).toEqual(["0-100000"]);
    expect(toFilterQuery(f).age_min).toBe(30); // a number for the API
    expect(toFilterQuery(f).age_max).toBe(45);
    expect(toFilterQuery(f).holds).toBe("0700.HK");
    expect(activeFilterCount(f)).toBe(26); // every filter but the search
  });

  it("leaves defaults out of the URL", () => {
    expect(filtersToParams(DEFAULT_FILTERS).toString()).toBe("");
    expect(parseFilters(new URLSearchParams(""))).toEqual(DEFAULT_FILTERS);
  });

  it("drops values a stale or hand-edited link carries", () => {
    const f = parseFilters(new URLSearchParams("stage=nonsense&stage=funded&risk_rating=yolo&channel=pigeon&user_region=hk&user_region=HKG&sort=name&order=up&limit=7&registered_from=yesterday&unassigned=maybe"
      + "&asset_band=rich&ada_band=1-2-3&age_min=-1&age_max=151&holds=0700 HK"));
    expect(f.asset_band).toEqual([]);
    expect(f.ada_band).toEqual([]);
    expect(f.age_min).toBeUndefined();
    expect(f.age_max).toBeUndefined();
    expect(f.holds).toBeUndefined();
    expect(f.stage).toEqual(["funded"]);
    expect(f.channel).toEqual([]);
    expect(f.risk_rating).toEqual([]);
    expect(f.user_region).toEqual(["HK"]);
    expect(f.sort).toBe("registered_at");
    expect(f.order).toBe("desc");
    expect(f.limit).toBe(50);
    expect(f.registered_from).toBeUndefined();
    expect(f.unassigned).toBeUndefined();
  });

  it("turns local dates into an inclusive instant range and keeps the cursor out of the filters", () => {
    const f = parseFilters(new URLSearchParams("registered_from=2026-11-01&registered_to=2026-11-30&stage=funded"));
    const q = toFilterQuery(f);
    const from = new Date(q.registered_from!);
    const to = new Date(q.registered_to!);
    expect(from.getDate()).toBe(1);
    expect(from.getHours()).toBe(0);
    expect(to.getDate()).toBe(1); // exclusive upper bound: the day after the last day chosen
    expect(to.getMonth()).toBe(11);
    expect(q.stage).toEqual(["funded"]);
    expect(toListQuery(f, "abc")).toMatchObject({ cursor: "abc", sort: "registered_at", order: "desc", limit: 50 });
    expect(toListQuery(f, null)).not.toHaveProperty("cursor");
  });
});
