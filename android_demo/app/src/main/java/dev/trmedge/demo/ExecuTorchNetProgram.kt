package dev.trmedge.demo

import dev.trmedge.core.ArtifactMetadata
import dev.trmedge.core.NetStepModel
import org.pytorch.executorch.EValue
import org.pytorch.executorch.Module
import org.pytorch.executorch.Tensor

/**
 * The three methods of a `trm-edge export --target executorch --recursion net` program (.pte, XNNPACK);
 * `NetStepModel` runs the step's recursion over them, so the runtime packs the net's weights once.
 */
class ExecuTorchNetProgram(modelPath: String, meta: ArtifactMetadata) : NetStepModel.Program {
    private val module: Module = Module.load(modelPath)
    private val tokenShape = longArrayOf(meta.batch.toLong(), meta.seqLen.toLong())
    private val idShape = longArrayOf(meta.batch.toLong())
    private val stateShape = meta.stateShape.map { it.toLong() }.toLongArray()

    override fun embed(inputs: IntArray, puzzleIdentifiers: IntArray): FloatArray =
        module.execute("embed", EValue.from(Tensor.fromBlob(inputs, tokenShape)),
            EValue.from(Tensor.fromBlob(puzzleIdentifiers, idShape)))[0].toTensor().dataAsFloatArray

    override fun net(hidden: FloatArray, injection: FloatArray): FloatArray =
        module.execute("net", EValue.from(Tensor.fromBlob(hidden, stateShape)),
            EValue.from(Tensor.fromBlob(injection, stateShape)))[0].toTensor().dataAsFloatArray

    override fun heads(y: FloatArray): NetStepModel.Heads {
        val out = module.execute("heads", EValue.from(Tensor.fromBlob(y, stateShape)))
        return NetStepModel.Heads(out[0].toTensor().dataAsFloatArray, out[1].toTensor().dataAsFloatArray[0])
    }

    fun close() = module.destroy()
}
