import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import notificationsPlugin from '@backstage/plugin-notifications/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import signalsPlugin from '@backstage/plugin-signals/alpha';
import userSettingsPlugin from '@backstage/plugin-user-settings/alpha';
import residencyPlugin from '@residency-dev/plugin-residency/alpha';
import { signInModule } from './modules/signIn';
import { homeModule } from './modules/home';
import { catalogPageModule } from './modules/catalogPage';
import { navModule } from './modules/nav';

export default createApp({
  features: [
    catalogPlugin,
    orgPlugin,
    userSettingsPlugin,
    // Residency alerts (notifications page and sidebar item with the unread count)
    notificationsPlugin,
    // Live updates over the backend's signals channel (notifications, Residency tab)
    signalsPlugin,
    residencyPlugin,
    signInModule,
    homeModule,
    catalogPageModule,
    navModule,
  ],
});
