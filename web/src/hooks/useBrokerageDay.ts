// "Today" is the brokerage's day, from the summary service (its SUMMARY_TIMEZONE), never the browser's: staff
// in another time zone see and ask for the day the counts are made in. Refreshed every minute, so the page
// moves on to the next day at the brokerage's midnight.
import { useQuery } from "@tanstack/react-query";
import { brokerageDay } from "../services/summary";

export function useBrokerageDay() {
  return useQuery({
    queryKey: ["summary", "day"],
    queryFn: ({ signal }) => brokerageDay(signal),
    staleTime: 60_000,
    refetchInterval: 60_000,
  });
}
