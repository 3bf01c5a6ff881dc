/** The console's mark (decorative: the product name is always next to it). */
export function Logo({ size = 24 }: { size?: number }) {
  return <img src="/favicon.svg" width={size} height={size} alt="" aria-hidden style={{ verticalAlign: "-5px", marginInlineEnd: 8 }} />;
}
