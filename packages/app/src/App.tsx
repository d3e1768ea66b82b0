import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import userSettingsPlugin from '@backstage/plugin-user-settings/alpha';
import residencyPlugin from '@residency-dev/plugin-residency/alpha';
import { signInModule } from './modules/signIn';
import { homeModule } from './modules/home';
import { catalogPageModule } from './modules/catalogPage';

export default createApp({
  features: [
    catalogPlugin,
    orgPlugin,
    userSettingsPlugin,
    residencyPlugin,
    signInModule,
    homeModule,
    catalogPageModule,
  ],
});
