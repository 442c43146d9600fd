package dev.trmedge.demo

import android.os.Bundle
import android.os.SystemClock
import android.widget.Button
import android.widget.CheckBox
import android.widget.EditText
import android.widget.TextView
import androidx.appcompat.app.AppCompatActivity
import dev.trmedge.core.ArtifactMetadata
import dev.trmedge.core.HaltingLoop
import dev.trmedge.core.Loops
import dev.trmedge.core.InitState
import dev.trmedge.core.MazeCodec
import dev.trmedge.core.NetStepModel
import dev.trmedge.core.StepModel
import dev.trmedge.core.SudokuCodec
import java.io.File
import java.util.concurrent.Executors

/**
 * Enter or pick a puzzle, tap Solve, and watch the answer refine at every supervision step.
 * The artifact lives in assets/trm/ (copied there by `trm-edge export ... --android-assets`).
 */
class MainActivity : AppCompatActivity() {
    private val worker = Executors.newSingleThreadExecutor()
    private lateinit var meta: ArtifactMetadata
    private lateinit var loop: HaltingLoop
    private var closeModel: (() -> Unit)? = null
    private var samples: List<String> = emptyList()
    private var sampleIndex = 0

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        val info = findViewById<TextView>(R.id.modelInfo)
        val input = findViewById<EditText>(R.id.puzzleInput)
        val grid = findViewById<TextView>(R.id.grid)
        val status = findViewById<TextView>(R.id.status)
        val useHalting = findViewById<CheckBox>(R.id.useHalting)

        try {
            meta = ArtifactMetadata.parse(assets.open("trm/metadata.json").bufferedReader().readText())
            val init = InitState(assets.open("trm/init_state.f32").readBytes(), meta.hiddenSize)
            val modelFile = copyAsset("trm/${meta.modelFile}")
            loop = Loops.forArtifact(meta, init, object : Loops.Runtime {   // the core picks step graph or net program
                override fun stepGraph(meta: ArtifactMetadata): StepModel =
                    ExecuTorchStepModel(modelFile.absolutePath, meta).also { closeModel = it::close }

                override fun netProgram(meta: ArtifactMetadata): NetStepModel.Program =
                    ExecuTorchNetProgram(modelFile.absolutePath, meta).also { closeModel = it::close }
            })
            samples = runCatching { assets.open("trm/samples.txt").bufferedReader().readLines().filter { it.isNotBlank() } }
                .getOrDefault(emptyList())
            info.text = "${meta.task} ${meta.gridShape?.joinToString("x")} · ${meta.target} ${meta.quantize} · " +
                "up to ${meta.haltMaxSteps} steps"
            if (samples.isNotEmpty()) input.setText(samples[0])
        } catch (e: Exception) {
            info.text = "Could not load the model from assets/trm: ${e.message}"
            return
        }

        findViewById<Button>(R.id.randomButton).setOnClickListener {
            if (samples.isNotEmpty()) {
                sampleIndex = (sampleIndex + 1) % samples.size
                input.setText(samples[sampleIndex])
            }
        }
        findViewById<Button>(R.id.solveButton).setOnClickListener {
            val text = input.text.toString().trim()
            val tokens = try {
                if (meta.task == "maze") MazeCodec.encode(text) else SudokuCodec.encode(text)
            } catch (e: IllegalArgumentException) {
                status.text = e.message
                return@setOnClickListener
            }
            status.text = "solving…"
            val halting = useHalting.isChecked
            worker.execute {
                val start = SystemClock.elapsedRealtimeNanos()
                try {
                    val result = loop.solve(tokens, 0, halting) { step, prediction, q ->
                        val shown = render(prediction)
                        runOnUiThread {
                            grid.text = shown
                            status.text = "step $step · q_halt %.2f".format(q)
                        }
                    }
                    val ms = (SystemClock.elapsedRealtimeNanos() - start) / 1e6
                    runOnUiThread {
                        grid.text = render(result.prediction)
                        status.text = "${result.steps} step(s), %.1f ms%s".format(ms, if (result.halted) ", halted by the model" else "")
                    }
                } catch (e: Exception) {
                    runOnUiThread { status.text = "error: ${e.message}" }
                }
            }
        }
    }

    private fun render(tokens: IntArray): String {
        val text = if (meta.task == "maze") MazeCodec.decode(tokens) else SudokuCodec.decode(tokens)
        val width = meta.gridShape?.get(1) ?: text.length
        return text.chunked(width).joinToString("\n") { row -> row.toCharArray().joinToString(" ") }
    }

    /** ExecuTorch loads programs from a file path, so the .pte is copied out of the APK once. */
    private fun copyAsset(name: String): File {
        val out = File(filesDir, name.substringAfterLast('/'))
        assets.open(name).use { input -> out.outputStream().use { input.copyTo(it) } }
        return out
    }

    override fun onDestroy() {
        worker.shutdown()
        closeModel?.invoke()
        super.onDestroy()
    }
}
