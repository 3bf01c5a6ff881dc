import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App as AntApp, ConfigProvider } from "antd";
import enUS from "antd/locale/en_US";
import zhCN from "antd/locale/zh_CN";
import dayjs from "dayjs";
import "dayjs/locale/zh-cn";
import { useEffect, useState, type ReactNode } from "react";
import { ApiError } from "../api/problem";
import { useI18n } from "../i18n";

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        refetchOnWindowFocus: false,
        // a 4xx answer is the final word (problem+json shown as is); retry network and 5xx once
        retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 1,
      },
    },
  });
}

const NO_WAVE = { disabled: true };

/** antd locale and theme follow the console's language. */
export function ThemedAntd({ children }: { children: ReactNode }) {
  const { lang } = useI18n();
  useEffect(() => {
    dayjs.locale(lang === "zh" ? "zh-cn" : "en");
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }, [lang]);
  return (
    <ConfigProvider
      locale={lang === "zh" ? zhCN : enUS}
      // no click ripple: its layout read (getComputedStyle of the clicked button) cost a Next click ~50 ms of
      // forced layout while the page re-rendered (bench/bench_console.py)
      wave={NO_WAVE}
      theme={{ token: { colorPrimary: "#1456c8", colorPrimaryHover: "#0f46a6", colorPrimaryActive: "#0c3a8a", colorLink: "#1456c8", colorLinkHover: "#0f46a6", colorInfo: "#1456c8", colorError: "#cf1322", colorErrorHover: "#a8071a", colorTextSecondary: "rgba(0,0,0,0.62)", colorTextTertiary: "rgba(0,0,0,0.58)", colorTextDescription: "rgba(0,0,0,0.6)", colorTextPlaceholder: "rgba(0,0,0,0.55)" } }}
    >
      <AntApp>{children}</AntApp>
    </ConfigProvider>
  );
}

export function QueryProvider({ children, client }: { children: ReactNode; client?: QueryClient }) {
  const [qc] = useState(() => client ?? makeQueryClient());
  return <QueryClientProvider client={qc}>{children}</QueryClientProvider>;
}
