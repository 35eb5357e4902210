import { PageTitle } from '../components';
import { useI18n } from '../i18n';
import { Link } from '../router';

export default function NotFound() {
  const { t } = useI18n();
  return (
    <section>
      <PageTitle>{t('notFound.title')}</PageTitle>
      <Link to="/app/campaigns">{t('notFound.back')}</Link>
    </section>
  );
}
