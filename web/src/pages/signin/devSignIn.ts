// The development sign-in of `make run` (devtools/devsignin.py behind the gateway, only when
// WHALE_DEV_SIGNIN=1): demo users and HS256 tokens minted with the development secret.
import { ApiError, problemOf } from "../../api/problem";

export interface DevUser {
  role: string;
  user_id: string;
  team_id: string | null;
  description: string;
}

export async function devUsers(): Promise<DevUser[]> {
  const res = await fetch("/dev-signin/users");
  if (!res.ok) throw new ApiError(res.status, await problemOf(res), null);
  return ((await res.json()) as { users: DevUser[] }).users;
}

export async function devSignIn(role: string): Promise<string> {
  const res = await fetch("/dev-signin/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ role }),
  });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res), null);
  return ((await res.json()) as { access_token: string }).access_token;
}
