package dev.trmedge.core;

/**
 * Chooses the host loop for an artifact from its metadata, so an app only says how it runs each kind of
 * program: a step graph (one supervision step per call) or a net program (embed, net, heads; the step's
 * T x (n+1) net calls run here, see NetStepModel).
 */
public final class Loops {
    /** How this app's runtime opens each kind of program (ExecuTorch in android_demo; fakes in tests). */
    public interface Runtime {
        StepModel stepGraph(ArtifactMetadata meta);

        NetStepModel.Program netProgram(ArtifactMetadata meta);
    }

    private Loops() {
    }

    public static HaltingLoop forArtifact(ArtifactMetadata meta, InitState init, Runtime runtime) {
        StepModel step;
        switch (meta.recursion) {
            case "step":
                step = runtime.stepGraph(meta);
                break;
            case "net":
                step = new NetStepModel(runtime.netProgram(meta), meta);
                break;
            default:
                throw new IllegalArgumentException("the app runs --recursion step or net artifacts, not " + meta.recursion
                    + " (export with --recursion step or net)");
        }
        return new HaltingLoop(step, meta, init);
    }
}
