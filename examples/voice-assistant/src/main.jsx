import { createRoot } from 'react-dom/client'
import { App } from './App.jsx'

const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/voice/stream`
createRoot(document.getElementById('root')).render(<App url={url} />)
