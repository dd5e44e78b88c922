// Vite build of the web app. Three entries: the SPA (index.html: agent workspace, admin,
// tracking page), the chat panel the widget opens in an iframe (chat.html), and the widget
// loader (widget.js, a fixed name so the embed snippet never changes). Everything else is
// content-hashed under assets/ and served with a year-long immutable cache.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { resolve } from 'node:path'

// Element Plus components (and their CSS) that only lazily loaded screens use: admin editors,
// the ticket side panels, the tracking page, the dashboards (date picker with dayjs, drawer). Kept out of the first load's `element` chunk.
const LATER =
  /element-plus[\\/](es[\\/]components[\\/]|theme-chalk[\\/]el-)(slider|rate|popconfirm|mention|input-number|timeline|timeline-item|steps|step|result|descriptions|descriptions-item|date-picker|date-picker-panel|time-picker|time-select|drawer|radio|radio-group|radio-button|message-box)([\\/]|\.css)|node_modules[\\/]dayjs[\\/]/

// ECharts and its helpers: the dashboards route only.
const CHARTS = /node_modules[\\/](echarts|zrender|vue-echarts|tslib)[\\/]/

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus on demand: only the components a template uses, with their CSS.
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }),
  ],
  resolve: { alias: { '@': resolve(import.meta.dirname, 'src') } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 800,
    reportCompressedSize: false,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        chat: resolve(import.meta.dirname, 'chat.html'),
        widget: resolve(import.meta.dirname, 'src/features/widget/loader.ts'),
      },
      output: {
        // Vue, vue-i18n and the API client's runtime in `vendor` (all the widget needs); Element Plus
        // and its helpers in one `element` chunk (one request instead of ~25 tiny ones on the
        // staff app's first load; the widget never loads it).
        codeSplitting: {
          groups: [
            { name: 'vendor', test: /node_modules[\\/](vue|@vue|vue-i18n|@intlify|vue-router|openapi-fetch)[\\/]/, priority: 2 },
            // Components only later screens use stay with those screens' chunks.
            { name: 'element', test: (id: string) => /node_modules[\\/]/.test(id) && !LATER.test(id) && !CHARTS.test(id), priority: 1 },
            // ECharts (zrender, tslib) only for the dashboards route, never in the first load. Lowest
            // priority: a group takes its members' dependencies too, and Vue must stay in `vendor`.
            { name: 'echarts', test: CHARTS, priority: 0 },
          ],
        },
        entryFileNames: (chunk) => (chunk.name === 'widget' ? 'widget.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  preview: {
    proxy: { '/api': { target: process.env.HUITING_API ?? 'http://127.0.0.1:8080', ws: true } },
  },
  server: {
    proxy: { '/api': { target: process.env.HUITING_API ?? 'http://127.0.0.1:8080', ws: true } },
  },
})
