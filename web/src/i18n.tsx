import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/**
 * The UI's strings in English and Spanish. Every visible string is a key of
 * `en`; `es` must have the same keys (the type says so). `{name}` placeholders
 * are filled by `t(key, {name: …})`.
 */
const en = {
  'app.name': 'MailingCore',
  'app.skip': 'Skip to content',
  'app.loading': 'Loading…',
  'app.language': 'Language',
  'app.signOut': 'Sign out',
  'app.tenant': 'Tenant',
  'app.mainNav': 'Main',
  'app.signedInAs': 'Signed in as {email} ({role})',
  'nav.campaigns': 'Campaigns',
  'nav.usage': 'Usage',
  'role.owner': 'owner',
  'role.admin': 'admin',
  'role.editor': 'editor',
  'role.viewer': 'viewer',
  'error.unreachable': 'The MailingCore server cannot be reached. Check that it is running, then try again.',
  'error.generic': 'Something went wrong ({status}): {message}',
  'error.INVALID_CREDENTIALS': 'Wrong email or password.',
  'error.TOO_MANY_ATTEMPTS': 'Too many attempts. Wait {seconds} s, then try again.',
  'error.RATE_LIMITED': 'Too many requests. Wait {seconds} s, then try again.',
  'error.INVALID_SETUP_TOKEN': 'This setup link is not valid any more. Restart the server and open the new link it prints.',
  'error.SETUP_DONE': 'Setup is already done: sign in instead.',
  'error.NO_TENANTS': 'There is no tenant to claim: create one instead.',
  'error.INVITATION_INVALID': 'This invitation link is not valid, was already used, or has expired.',
  'error.UNAUTHORIZED': 'Your session has ended. Sign in again.',
  'error.INSUFFICIENT_SCOPE': 'Your role does not allow this.',
  'error.NOT_FOUND': 'Not found.',
  'error.VALIDATION_ERROR': 'Some fields are not valid: {fields}.',
  'error.retry': 'Try again',
  'signIn.title': 'Sign in',
  'signIn.email': 'Email',
  'signIn.password': 'Password',
  'signIn.submit': 'Sign in',
  'signIn.busy': 'Signing in…',
  'setup.title': 'Set up MailingCore',
  'setup.intro': 'Create the first owner account. This link works once.',
  'setup.email': 'Your email',
  'setup.password': 'Password (at least 10 characters)',
  'setup.mode': 'Tenant',
  'setup.createTenant': 'Create a new tenant',
  'setup.claimTenants': 'Take ownership of the tenants created with the CLI',
  'setup.tenantName': 'Tenant name',
  'setup.submit': 'Create the owner account',
  'setup.busy': 'Creating…',
  'setup.noToken': 'This page needs the one-time link that `npm start` prints. Open that link instead.',
  'setup.closed': 'Setup is already done.',
  'setup.goSignIn': 'Go to sign-in',
  'invite.title': 'Accept the invitation',
  'invite.intro': 'Choose a password for your account (or enter yours if you already have one).',
  'invite.password': 'Password (at least 10 characters)',
  'invite.submit': 'Accept and sign in',
  'invite.busy': 'Accepting…',
  'invite.noToken': 'This page needs the link from your invitation email.',
  'campaigns.title': 'Campaigns',
  'campaigns.filter': 'Status',
  'campaigns.all': 'All',
  'campaigns.empty': 'No campaigns yet.',
  'campaigns.name': 'Name',
  'campaigns.status': 'Status',
  'campaigns.progress': 'Progress',
  'campaigns.counters': 'Sent / failed / total',
  'campaigns.created': 'Created',
  'campaigns.progressLabel': '{done} of {total} processed',
  'campaigns.count': '{total} campaigns',
  'paging.label': 'Pages',
  'paging.previous': 'Previous',
  'paging.next': 'Next',
  'paging.page': 'Page {page} of {pages}',
  'status.DRAFT': 'Draft',
  'status.SCHEDULED': 'Scheduled',
  'status.SENDING': 'Sending',
  'status.PAUSED': 'Paused',
  'status.SENT': 'Sent',
  'status.CANCELLED': 'Cancelled',
  'campaign.back': 'Back to campaigns',
  'campaign.subject': 'Subject',
  'campaign.noSubject': '(from the template)',
  'campaign.status': 'Status',
  'campaign.scheduledAt': 'Scheduled for',
  'campaign.startedAt': 'Started',
  'campaign.completedAt': 'Completed',
  'campaign.counters': 'Counters',
  'campaign.total': 'Total',
  'campaign.queued': 'Queued',
  'campaign.sent': 'Sent',
  'campaign.failed': 'Failed',
  'campaign.cancelled': 'Cancelled',
  'campaign.skipped': 'Skipped',
  'campaign.coverage': 'Locale coverage',
  'campaign.coverageIntro': 'Contacts the campaign would reach, by locale, and whether a published template variant covers each.',
  'campaign.locale': 'Locale',
  'campaign.contacts': 'Contacts',
  'campaign.covered': 'Template variant',
  'campaign.yes': 'Covered',
  'campaign.no': 'No published variant',
  'campaign.noLocale': '(no locale)',
  'campaign.noCoverage': 'No contacts match this campaign now.',
  'campaign.uncoveredCount': 'Locales without a published variant: {count}.',
  'campaign.send': 'Send…',
  'campaign.confirmSend': 'Send this campaign to {count} contacts now?',
  'campaign.confirm': 'Yes, send now',
  'campaign.cancel': 'Cancel',
  'campaign.sending': 'Sending started.',
  'campaign.none': '—',
  'usage.title': 'Usage',
  'usage.month': 'Month {month}',
  'usage.meter': 'Emails sent this month',
  'usage.used': '{used} of {limit} emails ({percentage} %)',
  'usage.ok': 'Within the monthly quota.',
  'usage.warning': 'Over 80 % of the monthly quota is used.',
  'usage.grace': 'The quota is used up: sending continues in the grace band up to 110 %, then stops until next month.',
  'usage.blocked': 'The quota and its grace band are used up: nothing more is sent this month.',
  'usage.legend': '80 % warning at {warn}; grace band from {limit} up to {grace} (110 %).',
  'notFound.title': 'Page not found',
  'notFound.back': 'Go to the campaigns',
} as const;

export type MessageKey = keyof typeof en;

const es: Record<MessageKey, string> = {
  'app.name': 'MailingCore',
  'app.skip': 'Saltar al contenido',
  'app.loading': 'Cargando…',
  'app.language': 'Idioma',
  'app.signOut': 'Cerrar sesión',
  'app.tenant': 'Cliente',
  'app.mainNav': 'Principal',
  'app.signedInAs': 'Sesión de {email} ({role})',
  'nav.campaigns': 'Campañas',
  'nav.usage': 'Consumo',
  'role.owner': 'propietario',
  'role.admin': 'administrador',
  'role.editor': 'editor',
  'role.viewer': 'lector',
  'error.unreachable': 'No se puede contactar con el servidor de MailingCore. Compruebe que está en marcha y vuelva a intentarlo.',
  'error.generic': 'Algo ha fallado ({status}): {message}',
  'error.INVALID_CREDENTIALS': 'Correo o contraseña incorrectos.',
  'error.TOO_MANY_ATTEMPTS': 'Demasiados intentos. Espere {seconds} s y vuelva a intentarlo.',
  'error.RATE_LIMITED': 'Demasiadas peticiones. Espere {seconds} s y vuelva a intentarlo.',
  'error.INVALID_SETUP_TOKEN': 'Este enlace de configuración ya no es válido. Reinicie el servidor y abra el nuevo enlace que muestra.',
  'error.SETUP_DONE': 'La configuración ya está hecha: inicie sesión.',
  'error.NO_TENANTS': 'No hay clientes que reclamar: cree uno.',
  'error.INVITATION_INVALID': 'Este enlace de invitación no es válido, ya se usó o ha caducado.',
  'error.UNAUTHORIZED': 'Su sesión ha terminado. Inicie sesión de nuevo.',
  'error.INSUFFICIENT_SCOPE': 'Su rol no lo permite.',
  'error.NOT_FOUND': 'No encontrado.',
  'error.VALIDATION_ERROR': 'Algunos campos no son válidos: {fields}.',
  'error.retry': 'Reintentar',
  'signIn.title': 'Iniciar sesión',
  'signIn.email': 'Correo electrónico',
  'signIn.password': 'Contraseña',
  'signIn.submit': 'Iniciar sesión',
  'signIn.busy': 'Iniciando sesión…',
  'setup.title': 'Configurar MailingCore',
  'setup.intro': 'Cree la primera cuenta de propietario. Este enlace funciona una sola vez.',
  'setup.email': 'Su correo electrónico',
  'setup.password': 'Contraseña (al menos 10 caracteres)',
  'setup.mode': 'Cliente',
  'setup.createTenant': 'Crear un cliente nuevo',
  'setup.claimTenants': 'Hacerse propietario de los clientes creados con la CLI',
  'setup.tenantName': 'Nombre del cliente',
  'setup.submit': 'Crear la cuenta de propietario',
  'setup.busy': 'Creando…',
  'setup.noToken': 'Esta página necesita el enlace de un solo uso que muestra `npm start`. Abra ese enlace.',
  'setup.closed': 'La configuración ya está hecha.',
  'setup.goSignIn': 'Ir a iniciar sesión',
  'invite.title': 'Aceptar la invitación',
  'invite.intro': 'Elija una contraseña para su cuenta (o escriba la suya si ya tiene una).',
  'invite.password': 'Contraseña (al menos 10 caracteres)',
  'invite.submit': 'Aceptar e iniciar sesión',
  'invite.busy': 'Aceptando…',
  'invite.noToken': 'Esta página necesita el enlace de su correo de invitación.',
  'campaigns.title': 'Campañas',
  'campaigns.filter': 'Estado',
  'campaigns.all': 'Todos',
  'campaigns.empty': 'Todavía no hay campañas.',
  'campaigns.name': 'Nombre',
  'campaigns.status': 'Estado',
  'campaigns.progress': 'Progreso',
  'campaigns.counters': 'Enviados / fallidos / total',
  'campaigns.created': 'Creada',
  'campaigns.progressLabel': '{done} de {total} procesados',
  'campaigns.count': '{total} campañas',
  'paging.label': 'Páginas',
  'paging.previous': 'Anterior',
  'paging.next': 'Siguiente',
  'paging.page': 'Página {page} de {pages}',
  'status.DRAFT': 'Borrador',
  'status.SCHEDULED': 'Programada',
  'status.SENDING': 'Enviando',
  'status.PAUSED': 'En pausa',
  'status.SENT': 'Enviada',
  'status.CANCELLED': 'Cancelada',
  'campaign.back': 'Volver a las campañas',
  'campaign.subject': 'Asunto',
  'campaign.noSubject': '(el de la plantilla)',
  'campaign.status': 'Estado',
  'campaign.scheduledAt': 'Programada para',
  'campaign.startedAt': 'Iniciada',
  'campaign.completedAt': 'Terminada',
  'campaign.counters': 'Contadores',
  'campaign.total': 'Total',
  'campaign.queued': 'En cola',
  'campaign.sent': 'Enviados',
  'campaign.failed': 'Fallidos',
  'campaign.cancelled': 'Cancelados',
  'campaign.skipped': 'Omitidos',
  'campaign.coverage': 'Cobertura de idiomas',
  'campaign.coverageIntro': 'Contactos a los que llegaría la campaña, por idioma, y si una variante publicada de la plantilla cubre cada uno.',
  'campaign.locale': 'Idioma',
  'campaign.contacts': 'Contactos',
  'campaign.covered': 'Variante de plantilla',
  'campaign.yes': 'Cubierto',
  'campaign.no': 'Sin variante publicada',
  'campaign.noLocale': '(sin idioma)',
  'campaign.noCoverage': 'Ningún contacto coincide ahora con esta campaña.',
  'campaign.uncoveredCount': 'Idiomas sin variante publicada: {count}.',
  'campaign.send': 'Enviar…',
  'campaign.confirmSend': '¿Enviar esta campaña a {count} contactos ahora?',
  'campaign.confirm': 'Sí, enviar ahora',
  'campaign.cancel': 'Cancelar',
  'campaign.sending': 'Envío iniciado.',
  'campaign.none': '—',
  'usage.title': 'Consumo',
  'usage.month': 'Mes {month}',
  'usage.meter': 'Correos enviados este mes',
  'usage.used': '{used} de {limit} correos ({percentage} %)',
  'usage.ok': 'Dentro de la cuota mensual.',
  'usage.warning': 'Se ha usado más del 80 % de la cuota mensual.',
  'usage.grace': 'La cuota está agotada: el envío continúa en el margen de gracia hasta el 110 % y luego se detiene hasta el mes que viene.',
  'usage.blocked': 'La cuota y su margen de gracia están agotados: no se envía nada más este mes.',
  'usage.legend': 'Aviso del 80 % en {warn}; margen de gracia de {limit} a {grace} (110 %).',
  'notFound.title': 'Página no encontrada',
  'notFound.back': 'Ir a las campañas',
};

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
