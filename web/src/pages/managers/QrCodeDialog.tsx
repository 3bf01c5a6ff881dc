// The manager's referral QR code as an image: the registration link with their code, downloadable as PNG.
import { Button, Modal, QRCode, Space, Typography } from "antd";
import { useRef } from "react";
import { useI18n } from "../../i18n";
import type { ManagerRow } from "../../services/assignment";

/** The link a customer scans: the brokerage's sign-up page with the manager's referral code. */
export function referralLink(code: string, base = window.location.origin): string {
  return `${base}/register?ref=${encodeURIComponent(code)}`;
}

export function QrCodeDialog({ manager, onClose }: { manager: ManagerRow | null; onClose: () => void }) {
  const { t } = useI18n();
  const box = useRef<HTMLDivElement>(null);
  const code = manager?.referral_code ?? "";
  const download = () => {
    const canvas = box.current?.querySelector("canvas");
    if (!canvas) return;
    const a = document.createElement("a");
    a.href = canvas.toDataURL("image/png");
    a.download = `qr-${manager?.manager_id}.png`;
    a.click();
  };
  return (
    <Modal open={!!manager} onCancel={onClose} footer={null} title={t("managers.qrTitle", { name: manager?.name ?? "" })} destroyOnHidden>
      {manager && (code ? (
        <Space direction="vertical" align="center" style={{ width: "100%" }}>
          <div ref={box} data-testid="manager-qr">
            {/* the canvas is the image (antd gives it role="img"): its text alternative goes on it */}
            <QRCode value={referralLink(code)} size={220} type="canvas" aria-label={t("managers.qrAlt", { code })} />
          </div>
          <Typography.Text copyable>{referralLink(code)}</Typography.Text>
          <Button onClick={download}>{t("managers.qrDownload")}</Button>
        </Space>
      ) : <Typography.Text>{t("managers.noCode")}</Typography.Text>)}
    </Modal>
  );
}
