import { Sidebar, SidebarItem } from '@backstage/core-components';
import { createFrontendModule } from '@backstage/frontend-plugin-api';
import {
  NavContentBlueprint,
  type NavContentComponentProps,
} from '@backstage/plugin-app-react';
import { NotificationsSidebarItem } from '@backstage/plugin-notifications';

/** The id of the notifications plugin's page (its generic nav item is replaced). */
export const NOTIFICATIONS_PAGE_ID = 'page:notifications';

/**
 * The sidebar: every page's item as the app would show it, and the
 * notifications plugin's own item in place of the generic one, so people see
 * the unread count and a snackbar when a notification arrives (through
 * signals) while the portal is open.
 */
export function AppNavContent(props: NavContentComponentProps) {
  const notifications = props.navItems.take(NOTIFICATIONS_PAGE_ID);
  const items = props.navItems.rest();
  return (
    <Sidebar>
      {items.map(item => (
        <SidebarItem
          key={item.node.spec.id}
          to={item.href}
          icon={() => item.icon}
          text={item.title}
        />
      ))}
      {notifications && (
        <NotificationsSidebarItem
          webNotificationsEnabled={false}
          snackbarEnabled
          text={notifications.title}
        />
      )}
    </Sidebar>
  );
}

const navContent = NavContentBlueprint.make({
  params: { component: props => <AppNavContent {...props} /> },
});

export const navModule = createFrontendModule({
  pluginId: 'app',
  extensions: [navContent],
});
