/**
 * The public unsubscribe pages, in the six languages MailingCore speaks
 * (pure). A contact's `es-MX` reads Spanish; anything unknown reads English.
 */
export const PAGE_LANGUAGES = ['es', 'en', 'it', 'fr', 'ca', 'de'] as const;
export type PageLanguage = (typeof PAGE_LANGUAGES)[number];

interface Texts {
  confirmTitle: string;
  confirmBody: string;
  button: string;
  doneTitle: string;
  doneBody: string;
  invalidTitle: string;
  invalidBody: string;
  unknownTitle: string;
  unknownBody: string;
}

const TEXTS: Record<PageLanguage, Texts> = {
  en: {
    confirmTitle: 'Unsubscribe',
    confirmBody: 'Do you want to stop receiving these emails?',
    button: 'Unsubscribe',
    doneTitle: 'You are unsubscribed',
    doneBody: 'You will not receive these emails any more.',
    invalidTitle: 'Invalid link',
    invalidBody: 'This unsubscribe link is not valid. Please use the link from the email you received.',
    unknownTitle: 'Nothing to unsubscribe',
    unknownBody: 'We no longer hold this address, so no emails will be sent to it.',
  },
  es: {
    confirmTitle: 'Darse de baja',
    confirmBody: '¿Quieres dejar de recibir estos correos?',
    button: 'Darme de baja',
    doneTitle: 'Te has dado de baja',
    doneBody: 'Ya no recibirás estos correos.',
    invalidTitle: 'Enlace no válido',
    invalidBody: 'Este enlace para darse de baja no es válido. Usa el enlace del correo que recibiste.',
    unknownTitle: 'Nada que dar de baja',
    unknownBody: 'Ya no guardamos esta dirección, así que no se le enviarán correos.',
  },
  it: {
    confirmTitle: 'Annulla iscrizione',
    confirmBody: 'Vuoi smettere di ricevere queste email?',
    button: 'Annulla iscrizione',
    doneTitle: 'Iscrizione annullata',
    doneBody: 'Non riceverai più queste email.',
    invalidTitle: 'Link non valido',
    invalidBody: "Questo link di annullamento non è valido. Usa il link dell'email che hai ricevuto.",
    unknownTitle: 'Nessuna iscrizione da annullare',
    unknownBody: 'Non conserviamo più questo indirizzo, quindi non riceverà email.',
  },
  fr: {
    confirmTitle: 'Se désabonner',
    confirmBody: 'Voulez-vous ne plus recevoir ces e-mails ?',
    button: 'Me désabonner',
    doneTitle: 'Vous êtes désabonné',
    doneBody: 'Vous ne recevrez plus ces e-mails.',
    invalidTitle: 'Lien invalide',
    invalidBody: "Ce lien de désabonnement n'est pas valide. Utilisez le lien de l'e-mail reçu.",
    unknownTitle: 'Rien à désabonner',
    unknownBody: "Nous ne conservons plus cette adresse : aucun e-mail ne lui sera envoyé.",
  },
  ca: {
    confirmTitle: 'Donar-se de baixa',
    confirmBody: 'Vols deixar de rebre aquests correus?',
    button: "Donar-me de baixa",
    doneTitle: "T'has donat de baixa",
    doneBody: 'Ja no rebràs aquests correus.',
    invalidTitle: 'Enllaç no vàlid',
    invalidBody: "Aquest enllaç de baixa no és vàlid. Fes servir l'enllaç del correu que vas rebre.",
    unknownTitle: 'Res a donar de baixa',
    unknownBody: 'Ja no guardem aquesta adreça, així que no se li enviaran correus.',
  },
  de: {
    confirmTitle: 'Abmelden',
    confirmBody: 'Möchten Sie diese E-Mails nicht mehr erhalten?',
    button: 'Abmelden',
    doneTitle: 'Sie sind abgemeldet',
    doneBody: 'Sie erhalten diese E-Mails nicht mehr.',
    invalidTitle: 'Ungültiger Link',
    invalidBody: 'Dieser Abmeldelink ist ungültig. Bitte verwenden Sie den Link aus der erhaltenen E-Mail.',
    unknownTitle: 'Nichts abzumelden',
    unknownBody: 'Diese Adresse ist bei uns nicht mehr gespeichert; sie erhält keine E-Mails.',
  },
};

/** `?lang=` if it names one of ours, else the contact's locale's language, else English. */
export function pageLanguage(requested: string | undefined, contactLocale: string | null | undefined): PageLanguage {
  for (const candidate of [requested, contactLocale?.split('-')[0]]) {
    const lower = candidate?.toLowerCase();
    if (lower && (PAGE_LANGUAGES as readonly string[]).includes(lower)) return lower as PageLanguage;
  }
  return 'en';
}

export type PageKind = 'confirm' | 'done' | 'invalid' | 'unknown';

export function renderPage(kind: PageKind, language: PageLanguage, formAction?: string): string {
  const t = TEXTS[language];
  const pages: Record<PageKind, { title: string; body: string }> = {
    confirm: { title: t.confirmTitle, body: t.confirmBody },
    done: { title: t.doneTitle, body: t.doneBody },
    invalid: { title: t.invalidTitle, body: t.invalidBody },
    unknown: { title: t.unknownTitle, body: t.unknownBody },
  };
  const { title, body } = pages[kind];
  const form =
    kind === 'confirm' && formAction
      ? `<form method="post" action="${escapeHtml(formAction)}"><button type="submit">${escapeHtml(t.button)}</button></form>`
      : '';
  return `<!doctype html>
<html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}</style>
</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p>${form}</body></html>`;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
