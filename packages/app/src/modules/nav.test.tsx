/*
 * The sidebar: every page's item, and the notifications plugin's own item (with the
 * unread count) instead of its generic page item.
 */
import { screen } from '@testing-library/react';
import {
  TestApiProvider,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import type { NavContentNavItem } from '@backstage/plugin-app-react';
import { notificationsApiRef } from '@backstage/plugin-notifications';
import { signalApiRef } from '@backstage/plugin-signals-react';
import notificationsPlugin from '@backstage/plugin-notifications/alpha';
import { AppNavContent, NOTIFICATIONS_PAGE_ID } from './nav';

function navItems(items: { id: string; title: string; href: string }[]) {
  const all: NavContentNavItem[] = items.map(i => ({
    node: { spec: { id: i.id } } as any,
    href: i.href,
    title: i.title,
    icon: <span />,
    routeRef: {} as any,
  }));
  const taken = new Set<string>();
  const bag = {
    take: (id: string) => {
      const item = all.find(i => i.node.spec.id === id && !taken.has(id));
      if (item) taken.add(id);
      return item;
    },
    rest: () => all.filter(i => !taken.has(i.node.spec.id)),
    clone: () => bag,
    withComponent: () => {
      throw new Error('not used');
    },
  };
  return bag;
}

describe('AppNavContent', () => {
  it('shows the pages and the notifications item with the unread count', async () => {
    const getStatus = jest.fn(async () => ({ unread: 3, read: 1 }));
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [notificationsApiRef, { getStatus } as any],
          [signalApiRef, { subscribe: () => ({ unsubscribe: () => {} }) }],
        ]}
      >
        <AppNavContent
          navItems={navItems([
            { id: 'page:catalog', title: 'Catalog', href: '/catalog' },
            { id: 'page:residency', title: 'Residency', href: '/residency' },
            {
              id: NOTIFICATIONS_PAGE_ID,
              title: 'Notifications',
              href: '/notifications',
            },
          ])}
          items={[]}
        />
      </TestApiProvider>,
      {
        mountedRoutes: {
          '/notifications': notificationsPlugin.routes.root,
        },
      },
    );
    expect(screen.getByRole('link', { name: 'Catalog' })).toHaveAttribute(
      'href',
      '/catalog',
    );
    expect(screen.getByRole('link', { name: 'Residency' })).toBeVisible();
    const notifications = await screen.findByRole('link', {
      name: /Notifications/,
    });
    expect(notifications).toHaveAttribute('href', '/notifications');
    expect(await screen.findByText('3')).toBeVisible();
    expect(getStatus).toHaveBeenCalled();
    // one notifications item, not the generic one as well
    expect(screen.getAllByRole('link', { name: /Notifications/ })).toHaveLength(
      1,
    );
  });
});
