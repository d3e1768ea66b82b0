module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  rules: {
    // Tests assert through named helpers (expectConfigError, expectCode, ...).
    'jest/expect-expect': [
      'warn',
      { assertFunctionNames: ['expect', 'expect*'] },
    ],
  },
});
