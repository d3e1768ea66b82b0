import { render, screen } from '@testing-library/react';

describe('App', () => {
  beforeEach(() => {
    process.env = {
      ...process.env,
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Residency test' },
            backend: { baseUrl: 'http://localhost:7007' },
          },
          context: 'test',
        },
      ] as any,
    };
    // No backend in a unit test: the guest auto sign-in fails and the sign-in page shows.
    jest
      .spyOn(global, 'fetch' as any)
      .mockImplementation(async () => new Response('', { status: 401 }));
  });

  it('shows the guest sign-in page when no session exists', async () => {
    const { default: App } = await import('./App');
    render(App.createRoot());
    expect(
      await screen.findByRole('button', { name: 'Enter' }, { timeout: 60000 }),
    ).toBeInTheDocument();
    expect(screen.getAllByText(/guest/i).length).toBeGreaterThan(0);
    // one demo user per role
    for (const name of [
      'Sign in as Dana (developer)',
      'Sign in as Ali (auditor)',
      'Sign in as Pat (platform owner)',
      'Sign in as Dora (data protection officer)',
    ]) {
      expect(screen.getByRole('button', { name })).toBeInTheDocument();
    }
    // Importing the whole app is the slow part: on a fresh clone (no transform
    // cache) under a loaded CI machine it took more than 30 s once.
  }, 90000);
});
