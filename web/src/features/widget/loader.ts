// The embed snippet's script (served as /widget.js, a fixed name):
//   <script src="https://<huiting>/widget.js" data-key="pk_…" data-lang="zh-CN" async></script>
// It adds a chat bubble to the host page and opens the chat panel (chat.html) in an iframe on
// Huiting's own origin, so the visitor token stays there and the host page needs no CORS. It
// imports nothing and touches the host page only through its own two elements.
;(() => {
  const script = document.currentScript as HTMLScriptElement | null
  if (!script || (window as unknown as { __huitingWidget?: boolean }).__huitingWidget) return
  ;(window as unknown as { __huitingWidget?: boolean }).__huitingWidget = true
  const origin = new URL(script.src).origin
  const key = script.dataset.key ?? ''
  const lang = script.dataset.lang === 'en' ? 'en' : 'zh-CN'
  const label = lang === 'en' ? 'Chat with us' : '在线客服'

  const bubble = document.createElement('button')
  bubble.type = 'button'
  bubble.setAttribute('aria-label', label)
  bubble.title = label
  bubble.dataset.huiting = 'bubble'
  // A speech-bubble icon drawn with SVG elements (no emoji font needed, no markup strings).
  const svgNs = 'http://www.w3.org/2000/svg'
  const icon = document.createElementNS(svgNs, 'svg')
  icon.setAttribute('viewBox', '0 0 24 24')
  icon.setAttribute('width', '28')
  icon.setAttribute('height', '28')
  const path = document.createElementNS(svgNs, 'path')
  path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z')
  path.setAttribute('fill', '#fff')
  icon.appendChild(path)
  bubble.appendChild(icon)
  Object.assign(bubble.style, {
    position: 'fixed', right: '20px', bottom: '20px', width: '56px', height: '56px', borderRadius: '28px',
    border: 'none', background: '#0f766e', color: '#fff', cursor: 'pointer', display: 'flex',
    alignItems: 'center', justifyContent: 'center', padding: '0',
    boxShadow: '0 4px 14px rgba(0,0,0,.25)', zIndex: '2147483646',
  })

  let frame: HTMLIFrameElement | null = null
  const narrow = () => window.matchMedia('(max-width: 480px)').matches

  function place(f: HTMLIFrameElement) {
    const phone = narrow()
    Object.assign(f.style, phone
      ? { right: '0', bottom: '0', width: '100vw', height: '100%', borderRadius: '0' }
      : { right: '20px', bottom: '88px', width: '370px', height: 'min(580px, calc(100vh - 110px))', borderRadius: '12px' })
  }

  function toggle() {
    if (!frame) {
      frame = document.createElement('iframe')
      frame.src = `${origin}/chat.html?key=${encodeURIComponent(key)}&lang=${lang}`
      frame.title = label
      frame.dataset.huiting = 'panel'
      Object.assign(frame.style, { position: 'fixed', border: 'none', background: '#fff', boxShadow: '0 8px 30px rgba(0,0,0,.25)', zIndex: '2147483647' })
      place(frame)
      document.body.appendChild(frame)
      return
    }
    frame.style.display = frame.style.display === 'none' ? 'block' : 'none'
  }

  bubble.addEventListener('click', toggle)
  window.addEventListener('resize', () => frame && place(frame))
  window.addEventListener('message', (e) => {
    if (e.origin === origin && e.data === 'huiting:close' && frame) frame.style.display = 'none'
  })
  const mount = () => document.body.appendChild(bubble)
  if (document.body) mount()
  else document.addEventListener('DOMContentLoaded', mount)
})()
