// A small typed dictionary: `t("key", { var })`. English and Simplified Chinese are complete by type.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { en, type MessageKey, type Messages } from "./en";
import { zh } from "./zh";

export type Lang = "en" | "zh";
export const LANGS: { value: Lang; label: string; htmlLang: string }[] = [
  { value: "en", label: "English", htmlLang: "en" },
  { value: "zh", label: "简体中文", htmlLang: "zh-CN" },
];
const DICTS: Record<Lang, Messages> = { en, zh };
const STORAGE_KEY = "whale.lang";

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function format(dict: Messages, key: MessageKey, vars?: Record<string, string | number>): string {
  const text = dict[key] ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : text;
}

/** `t` for a key that is only known at run time (an enum value from the API): falls back to the raw value. */
export function hasKey(key: string): key is MessageKey {
  return key in en;
}

interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: Translate;
  /** Label of an API enum value (`stage.funded`), or the value itself when unknown. */
  label: (prefix: string, value: string | null | undefined) => string;
}

const I18nContext = createContext<I18n | null>(null);

export function initialLang(): Lang {
  const stored = typeof localStorage !== "undefined" ? localStorage.getItem(STORAGE_KEY) : null;
  if (stored === "en" || stored === "zh") return stored;
  return typeof navigator !== "undefined" && navigator.language?.toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function I18nProvider({ children, lang: fixed }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(fixed ?? initialLang);
  const setLang = useCallback((next: Lang) => {
    localStorage.setItem(STORAGE_KEY, next);
    document.documentElement.lang = LANGS.find((l) => l.value === next)!.htmlLang;
    setLangState(next);
  }, []);
  const value = useMemo<I18n>(() => {
    const dict = DICTS[lang];
    const t: Translate = (key, vars) => format(dict, key, vars);
    const label = (prefix: string, v: string | null | undefined) => {
      if (v == null || v === "") return dict["common.none"];
      const key = `${prefix}.${v}`;
      return hasKey(key) ? dict[key] : v;
    };
    return { lang, setLang, t, label };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error("useI18n outside I18nProvider");
  return ctx;
}
