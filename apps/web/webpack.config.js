const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('path');

// The example web app: a browser bundle, its page and its styles, served as static files by
// server.mjs (npm start, docker-compose). Scripts and styles are files of their own, never inline,
// so the page's content security policy needs no 'unsafe-inline'.
module.exports = {
  output: {
    path: join(__dirname, '../../dist/apps/web'),
    clean: true,
  },
  plugins: [
    new NxAppWebpackPlugin({
      target: 'web',
      compiler: 'tsc',
      main: './src/main.ts',
      index: './src/index.html',
      // No <base> element: the policy's base-uri is 'none'.
      baseHref: false,
      styles: ['./src/styles.css'],
      assets: ['./src/favicon.svg'],
      tsConfig: './tsconfig.app.json',
      extractCss: true,
      outputHashing: process.env.NODE_ENV === 'production' ? 'all' : 'none',
      optimization: process.env.NODE_ENV === 'production',
      sourceMap: process.env.NODE_ENV !== 'production',
    }),
  ],
};
