import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import * as campaigns from './messages/campaigns';
import * as contacts from './messages/contacts';
import * as core from './messages/core';
import * as settings from './messages/settings';
import * as templates from './messages/templates';

/**
 * The UI's strings in English and Spanish, one module per area under
 * messages/ (each exports `en` and an `es` typed to have the same keys), so
 * pages added side by side do not edit one file. `{name}` placeholders are
 * filled by `t(key, {name: …})`.
 */
const en = { ...core.en, ...campaigns.en, ...contacts.en, ...templates.en, ...settings.en };

export type MessageKey = keyof typeof en;

const es: Record<MessageKey, string> = { ...core.es, ...campaigns.es, ...contacts.es, ...templates.es, ...settings.es };

export const LANGUAGES = { en: 'English', es: 'Español' } as const;
export type Language = keyof typeof LANGUAGES;
const DICTIONARIES: Record<Language, Record<MessageKey, string>> = { en, es };
const STORAGE_KEY = 'mc.language';

/** The saved choice, else the first of the browser's languages we have, else English. */
export function initialLanguage(): Language {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'es') return saved;
  } catch {
    // storage disabled: fall through
  }
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'en' || base === 'es') return base;
  }
  return 'en';
}

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

export function translate(language: Language, key: MessageKey, values?: Record<string, string | number>): string {
  const text = DICTIONARIES[language][key] ?? en[key];
  return values ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole)) : text;
}

interface I18n {
  language: Language;
  setLanguage(language: Language): void;
  t: Translate;
  /** Numbers and dates in the UI's language. */
  number(value: number): string;
  date(iso: string): string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  const setLanguage = useCallback((next: Language) => {
    setLanguageState(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // not saved: the choice lasts for this page
    }
  }, []);
  const value = useMemo<I18n>(() => {
    const numbers = new Intl.NumberFormat(language);
    const dates = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
    return {
      language,
      setLanguage,
      t: (key, values) => translate(language, key, values),
      number: (v) => numbers.format(v),
      date: (iso) => dates.format(new Date(iso)),
    };
  }, [language, setLanguage]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
