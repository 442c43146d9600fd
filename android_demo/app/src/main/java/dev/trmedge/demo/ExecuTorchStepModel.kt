package dev.trmedge.demo

import dev.trmedge.core.ArtifactMetadata
import dev.trmedge.core.StepModel
import org.pytorch.executorch.EValue
import org.pytorch.executorch.Module
import org.pytorch.executorch.Tensor

/** One supervision step of a `trm-edge export --target executorch --recursion step` program (.pte, XNNPACK). */
class ExecuTorchStepModel(modelPath: String, private val meta: ArtifactMetadata) : StepModel {
    private val module: Module = Module.load(modelPath)
    private val tokenShape = longArrayOf(meta.batch.toLong(), meta.seqLen.toLong())
    private val idShape = longArrayOf(meta.batch.toLong())
    private val stateShape = meta.stateShape.map { it.toLong() }.toLongArray()

    override fun step(inputs: IntArray, puzzleIdentifiers: IntArray, y: FloatArray, z: FloatArray): StepModel.Output {
        val out = module.forward(
            EValue.from(Tensor.fromBlob(inputs, tokenShape)),
            EValue.from(Tensor.fromBlob(puzzleIdentifiers, idShape)),
            EValue.from(Tensor.fromBlob(y, stateShape)),
            EValue.from(Tensor.fromBlob(z, stateShape)),
        )
        // Outputs in metadata order: y_out, z_out, logits, q_halt.
        return StepModel.Output(
            out[0].toTensor().dataAsFloatArray,
            out[1].toTensor().dataAsFloatArray,
            out[2].toTensor().dataAsFloatArray,
            out[3].toTensor().dataAsFloatArray[0],
        )
    }

    fun close() = module.destroy()
}
