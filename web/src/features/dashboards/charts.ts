// ECharts for the dashboards, registered once: only the chart types and components the
// dashboards draw (bars, lines, heat map, pie) and the canvas renderer, so the chunk stays
// small. Imported only by the lazily loaded dashboards route; the agent workspace never loads it.
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { BarChart, HeatmapChart, LineChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components'
import VChart from 'vue-echarts'

use([CanvasRenderer, BarChart, LineChart, HeatmapChart, PieChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent])

export { VChart }
