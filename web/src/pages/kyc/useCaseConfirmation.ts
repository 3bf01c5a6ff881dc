// After a decision the open case shows the command's answer at once, then confirms it from the server: the
// case is read again every second until the server's own answer has reached the decision's version (a read
// that started before the decision, a lagging replica or read model, must not put the old state back on
// screen), for at most CONFIRM_MS. `updating` is true meanwhile (the drawer says so); `unconfirmed` when the
// deadline passed first (the drawer offers a reload).
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { getCase, type CaseDetail } from "../../services/kyc";

export const CONFIRM_MS = 30_000;
export const CONFIRM_EVERY_MS = 1_000;

export const caseKey = (caseId: string | null) => ["kyc", "case", caseId] as const;

interface Expected { version: number; until: number }

/** The case as the server reads it, never older than the one already shown (versions only grow): a read
 * answered by a lagging store after a decision does not put the old state back. */
export async function readCase(qc: QueryClient, caseId: string, signal?: AbortSignal): Promise<CaseDetail> {
  const fresh = await getCase(caseId, signal);
  const shown = qc.getQueryData<CaseDetail>(caseKey(caseId));
  return shown && shown.case_id === fresh.case_id && shown.version > fresh.version ? shown : fresh;
}

export function useCaseConfirmation(caseId: string | null, onConfirmed?: () => void) {
  const qc = useQueryClient();
  const [expected, setExpected] = useState<Expected | null>(null);
  const [unconfirmed, setUnconfirmed] = useState(false);
  useEffect(() => { setExpected(null); setUnconfirmed(false); }, [caseId]);

  const check = useQuery({
    queryKey: [...caseKey(caseId), "confirm", expected?.version],
    queryFn: ({ signal }) => getCase(caseId!, signal),
    enabled: !!caseId && !!expected,
    refetchInterval: CONFIRM_EVERY_MS,
    gcTime: 0,
    retry: false,
  });
  const seen = check.data?.version;
  useEffect(() => {
    if (!expected || !caseId) return;
    if (seen !== undefined && seen >= expected.version) {
      qc.setQueryData(caseKey(caseId), check.data);
      setExpected(null);
      onConfirmed?.();
    } else if (Date.now() > expected.until) {
      setExpected(null);
      setUnconfirmed(true);
    }
    // every poll result (dataUpdatedAt) is a chance to confirm or to give up
  }, [seen, check.dataUpdatedAt, check.errorUpdatedAt, expected, caseId, qc, check.data, onConfirmed]);

  /** A command answered `next`: show it at once, then confirm it from the server. */
  const decided = useCallback(async (next: CaseDetail) => {
    await qc.cancelQueries({ queryKey: caseKey(next.case_id), exact: true }); // an older read still in flight
    qc.setQueryData(caseKey(next.case_id), next);
    setUnconfirmed(false);
    setExpected({ version: next.version, until: Date.now() + CONFIRM_MS });
  }, [qc]);

  return { decided, updating: !!expected, unconfirmed };
}
