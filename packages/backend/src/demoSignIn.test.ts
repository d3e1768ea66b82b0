import { ConfigReader } from '@backstage/config';
import { demoAuthenticator, DEMO_USER_HEADER } from './demoSignIn';

function request(user?: string) {
  return {
    header: (name: string) =>
      name.toLowerCase() === DEMO_USER_HEADER ? user : undefined,
  } as any;
}

describe('demo sign-in', () => {
  const config = new ConfigReader({
    users: ['user:default/dana-dev', 'user:default/ali-auditor'],
    dangerouslyAllowOutsideDevelopment: true,
  });

  it('signs in only as a listed demo user', async () => {
    const ctx = demoAuthenticator.initialize({ config });
    await expect(
      demoAuthenticator.authenticate(
        { req: request('user:default/dana-dev') },
        ctx,
      ),
    ).resolves.toEqual({ result: { userEntityRef: 'user:default/dana-dev' } });
    await expect(
      demoAuthenticator.authenticate(
        { req: request('user:default/admin') },
        ctx,
      ),
    ).rejects.toThrow(/not one of the demo users/);
    await expect(
      demoAuthenticator.authenticate({ req: request() }, ctx),
    ).rejects.toThrow(/Missing the x-residency-demo-user header/);
  });

  it('refuses outside development unless explicitly allowed', async () => {
    const ctx = demoAuthenticator.initialize({
      config: new ConfigReader({ users: ['user:default/dana-dev'] }),
    });
    await expect(
      demoAuthenticator.authenticate(
        { req: request('user:default/dana-dev') },
        ctx,
      ),
    ).rejects.toThrow(/disabled outside development/);
  });
});
