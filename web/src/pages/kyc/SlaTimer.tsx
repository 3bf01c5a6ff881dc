import { ClockCircleOutlined } from "@ant-design/icons";
import { Tag, Tooltip } from "antd";
import { useEffect, useState } from "react";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import type { QueueItem } from "../../services/kyc";
import { formatSeconds, slaStatus } from "./sla";

/** Time left on the case's SLA (or how long it is overdue), ticking every second. */
export function SlaTimer({ item, fetchedAt }: { item: QueueItem; fetchedAt: number }) {
  const { t } = useI18n();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  const s = slaStatus(item, fetchedAt, now);
  if (s.phase === "closed") return <span>—</span>;
  const warn = !s.overdue && s.remaining < s.limit * 0.2;
  return (
    <Tooltip title={t("kyc.sla.hint", { phase: t(`kyc.sla.${s.phase}` as MessageKey), limit: formatSeconds(s.limit), elapsed: formatSeconds(s.elapsed) })}>
      <Tag color={s.overdue ? "red" : warn ? "orange" : "green"} icon={<ClockCircleOutlined />} data-testid="sla-timer" data-overdue={s.overdue || undefined}>
        {s.overdue ? t("kyc.sla.overdueBy", { time: formatSeconds(Math.max(0, -s.remaining)) }) : t("kyc.sla.left", { time: formatSeconds(s.remaining) })}
      </Tag>
    </Tooltip>
  );
}
