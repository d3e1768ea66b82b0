import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// The machines are shared and slow; give async queries room before failing.
configure({ asyncUtilTimeout: 5000 });
jest.setTimeout(30_000);
