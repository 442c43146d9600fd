package dev.trmedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class CoreTest {
    private static byte[] resource(String name) throws IOException {
        try (InputStream in = CoreTest.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) throw new IOException("missing test resource " + name);
            return in.readAllBytes();
        }
    }

    private static ArtifactMetadata meta() throws IOException {
        return ArtifactMetadata.parse(new String(resource("metadata.json"), StandardCharsets.UTF_8));
    }

    @Test
    public void parsesRealExportedMetadata() throws IOException {
        ArtifactMetadata m = meta();
        assertEquals("step", m.recursion);
        assertEquals("sudoku", m.task);
        assertEquals(16, m.seqLen);
        assertEquals(6, m.vocabSize);
        assertEquals(m.prefixLen + m.seqLen, m.stateShape[1]);
        assertEquals(m.stateShape[1] * m.hiddenSize, m.stateSize());
    }

    @Test
    public void rejectsForeignMetadata() {
        assertThrows(IllegalArgumentException.class, () -> ArtifactMetadata.parse("{\"schema\": \"other\"}"));
        assertThrows(IllegalArgumentException.class, () -> ArtifactMetadata.parse("[1, 2"));
    }

    @Test
    public void initStateBroadcastsRealFile() throws IOException {
        ArtifactMetadata m = meta();
        InitState s = new InitState(resource("init_state.f32"), m.hiddenSize);
        float[] y = s.initialY(m.stateShape[1]);
        assertEquals(m.stateSize(), y.length);
        assertEquals(s.hInit[3], y[m.hiddenSize * 5 + 3], 0f);
        assertThrows(IllegalArgumentException.class, () -> new InitState(new byte[12], m.hiddenSize));
    }

    @Test
    @SuppressWarnings("unchecked")
    public void codecsMatchPythonTokens() throws IOException {
        List<Object> cases = (List<Object>) MiniJson.parse(new String(resource("codec_cases.json"), StandardCharsets.UTF_8));
        assertTrue(cases.size() >= 5);
        for (Object o : cases) {
            Map<String, Object> c = (Map<String, Object>) o;
            String text = (String) c.get("text");
            List<Object> expected = (List<Object>) c.get("tokens");
            int[] want = new int[expected.size()];
            for (int j = 0; j < want.length; j++) want[j] = ((Double) expected.get(j)).intValue();
            int[] got = "sudoku".equals(c.get("kind")) ? SudokuCodec.encode(text) : MazeCodec.encode(text);
            assertArrayEquals(text, want, got);
            String back = "sudoku".equals(c.get("kind")) ? SudokuCodec.decode(got) : MazeCodec.decode(got);
            assertEquals(text, back);
        }
        assertThrows(IllegalArgumentException.class, () -> SudokuCodec.encode("12345"));
        assertThrows(IllegalArgumentException.class, () -> SudokuCodec.encode("1234123412341235".replace('5', 'x')));
        assertThrows(IllegalArgumentException.class, () -> MazeCodec.encode("#X#"));
    }

    /** Copy k of a puzzle is the same view in Java as in Python (views.json, from make_fixtures.py), and maps back. */
    @Test
    @SuppressWarnings("unchecked")
    public void puzzleViewsMatchPython() throws IOException {
        List<Object> cases = (List<Object>) MiniJson.parse(new String(resource("views.json"), StandardCharsets.UTF_8));
        assertTrue(cases.size() >= 30);
        for (Object o : cases) {
            Map<String, Object> c = (Map<String, Object>) o;
            boolean sudoku = "sudoku".equals(c.get("kind"));
            int side = ((Double) c.get("side")).intValue();
            int copy = ((Double) c.get("copy")).intValue();
            String puzzle = (String) c.get("puzzle");
            int[] cells = sudoku ? SudokuCodec.encode(puzzle) : MazeCodec.encode(puzzle);
            if (sudoku) for (int j = 0; j < cells.length; j++) cells[j] -= 1;   // tokens -> digits, blank 0
            PuzzleViews.View view = sudoku ? PuzzleViews.sudoku(side, copy) : PuzzleViews.maze(side, copy);
            int[] seen = view.apply(cells);
            assertArrayEquals(puzzle + " copy " + copy, cells, view.undo(seen));
            if (sudoku) for (int j = 0; j < seen.length; j++) seen[j] += 1;
            assertEquals(puzzle + " copy " + copy, c.get("view"), sudoku ? SudokuCodec.decode(seen) : MazeCodec.decode(seen));
        }
    }

    /** A fake step graph that solves only the copy-2 view of `puzzle`: on other copies it repeats its input. */
    private static StepModel solvesCopyTwo(ArtifactMetadata m, int[] puzzle, int[] solution) {
        int[] copyTwo = PuzzleViews.sudoku(4, 2).apply(puzzle);
        int[] solvedTwo = PuzzleViews.sudoku(4, 2).apply(solution);
        return (inputs, ids, y, z) -> {
            boolean two = true;
            for (int i = 0; i < inputs.length; i++) two &= inputs[i] == copyTwo[i] + 1;
            float[] logits = new float[m.seqLen * m.vocabSize];
            for (int c = 0; c < m.seqLen; c++) logits[c * m.vocabSize + (two ? solvedTwo[c] + 1 : inputs[c])] = 1f;
            return new StepModel.Output(y, z, logits, -1f);
        };
    }

    /** Tries: a puzzle the model misses on copies 0 and 1 is solved on copy 2, mapped back and accepted by the
     *  rules; 'valid-2' halting gives up on an unchanged wrong answer after 2 more steps; with 2 tries, the vote. */
    @Test
    public void triesAcceptOnlyWhatTheRulesAccept() throws IOException {
        ArtifactMetadata m = meta();
        InitState init = new InitState(resource("init_state.f32"), m.hiddenSize);
        int[] solution = {1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1};
        int[] puzzle = solution.clone();
        for (int i : new int[] {0, 5, 6, 9, 10, 15}) puzzle[i] = 0;
        assertTrue(SudokuRules.accepts(puzzle, solution, 4));
        int[] wrong = solution.clone();
        wrong[0] = 2;
        wrong[1] = 1;
        assertFalse(SudokuRules.accepts(puzzle, wrong, 4));
        HaltingLoop loop = new HaltingLoop(solvesCopyTwo(m, puzzle, solution), m, init);
        Tries.Result r = Tries.solve(loop, PuzzleTask.SUDOKU, puzzle, 4, 8, 16, 2);
        assertTrue(r.verified);
        assertEquals(2, r.copy);
        assertEquals(3, r.copies);
        assertArrayEquals(solution, r.answer);
        assertEquals(3 + 3 + 1, r.steps);
        Tries.Result two = Tries.solve(loop, PuzzleTask.SUDOKU, puzzle, 4, 2, 16, 2);
        assertFalse(two.verified);
        assertEquals(2, two.copies);
        assertArrayEquals(puzzle, two.answer);   // both copies repeated the puzzle: that answer wins the vote
    }

    /** A fake step graph: the answer drifts towards token 3 and the halting logit rises by one per step. */
    private static StepModel fake(ArtifactMetadata m, int[] calls) {
        return (inputs, ids, y, z) -> {
            calls[0]++;
            float[] y2 = y.clone();
            y2[0] += 1f;
            float[] logits = new float[m.seqLen * m.vocabSize];
            for (int c = 0; c < m.seqLen; c++) logits[c * m.vocabSize + (y2[0] >= 2 ? 3 : 2)] = 1f;
            return new StepModel.Output(y2, z, logits, y2[0] - y[0] * 0 - 3.5f + 0f);
        };
    }

    @Test
    public void loopStopsOnHaltingHeadOrRunsAllSteps() throws IOException {
        ArtifactMetadata m = meta();
        InitState init = new InitState(resource("init_state.f32"), m.hiddenSize);
        int[] calls = {0};
        List<Integer> seen = new ArrayList<>();
        HaltingLoop loop = new HaltingLoop(fake(m, calls), m, init);
        int[] tokens = SudokuCodec.encode("1...2...3...4...");
        // y[0] starts at H_init[0] and grows by 1 per step; q_halt = y[0] - 3.5 turns positive after a few steps.
        HaltingLoop.Result act = loop.solve(tokens, 0, true, (k, pred, q) -> seen.add(k));
        int expected = (int) Math.floor(3.5f - init.hInit[0]) + 1;
        expected = Math.max(1, Math.min(expected, m.haltMaxSteps));
        assertEquals(expected, act.steps);
        assertEquals(act.steps, calls[0]);
        assertEquals(act.steps, seen.size());
        calls[0] = 0;
        HaltingLoop.Result fixed = loop.solve(tokens, 0, false, null);
        assertEquals(m.haltMaxSteps, fixed.steps);
        assertEquals(m.haltMaxSteps, calls[0]);
        assertFalse(fixed.halted);
        assertEquals(3, fixed.prediction[0]);
        assertThrows(IllegalArgumentException.class, () -> loop.solve(new int[3], 0, true, null));
    }

    @Test
    public void netStepRunsTheSchedulesCallsInOrder() throws IOException {
        ArtifactMetadata m = ArtifactMetadata.parse(new String(resource("metadata.json"), StandardCharsets.UTF_8)
            .replace("\"recursion\": \"step\"", "\"recursion\": \"net\""));
        List<String> calls = new ArrayList<>();
        // net(h, inj) = h + inj: z and y grow by sums we can follow by hand for one element.
        NetStepModel.Program program = new NetStepModel.Program() {
            public float[] embed(int[] inputs, int[] ids) { calls.add("embed"); return new float[] {1f}; }
            public float[] net(float[] h, float[] inj) { calls.add("net"); return NetStepModel.add(h, inj); }
            public NetStepModel.Heads heads(float[] y) { calls.add("heads"); return new NetStepModel.Heads(y, y[0]); }
        };
        StepModel.Output out = new NetStepModel(program, m).step(new int[1], new int[1], new float[] {0f}, new float[] {0f});
        float y = 0f, z = 0f;
        for (int t = 0; t < m.hCycles; t++) {
            for (int i = 0; i < m.lCycles; i++) z = z + (y + 1f);
            y = y + z;
        }
        assertEquals(y, out.y[0], 0f);
        assertEquals(z, out.z[0], 0f);
        assertEquals(y, out.qHalt, 0f);
        assertEquals(1 + m.hCycles * (m.lCycles + 1) + 1, calls.size());
        assertEquals("embed", calls.get(0));
        assertEquals("heads", calls.get(calls.size() - 1));
        assertThrows(IllegalArgumentException.class, () -> new NetStepModel(program, meta()));   // a step artifact
    }

    @Test
    public void factoryRunsNetProgramsAndStepGraphsThroughOneLoop() throws IOException {
        String json = new String(resource("metadata.json"), StandardCharsets.UTF_8);
        ArtifactMetadata net = ArtifactMetadata.parse(json.replace("\"recursion\": \"step\"", "\"recursion\": \"net\""));
        InitState init = new InitState(resource("init_state.f32"), net.hiddenSize);
        int positions = net.stateShape[0] * net.stateShape[1];
        List<String> calls = new ArrayList<>();
        // A net program whose answer state grows by 1 per net call: q_halt = y[0] - 5 halts after a few steps.
        NetStepModel.Program program = new NetStepModel.Program() {
            public float[] embed(int[] inputs, int[] ids) { calls.add("embed"); return new float[positions * net.hiddenSize]; }
            public float[] net(float[] h, float[] inj) {
                calls.add("net");
                float[] out = h.clone();
                for (int j = 0; j < out.length; j++) out[j] += 1f;
                return out;
            }
            public NetStepModel.Heads heads(float[] y) {
                calls.add("heads");
                return new NetStepModel.Heads(new float[net.seqLen * net.vocabSize], y[0] - 5f);
            }
        };
        Loops.Runtime runtime = new Loops.Runtime() {
            public StepModel stepGraph(ArtifactMetadata m) { throw new AssertionError("a net program is not a step graph"); }
            public NetStepModel.Program netProgram(ArtifactMetadata m) { return program; }
        };
        HaltingLoop.Result result = Loops.forArtifact(net, init, runtime)
            .solve(SudokuCodec.encode("1...2...3...4..."), 0, true, null);
        assertTrue(result.halted);
        int perStep = net.hCycles * (net.lCycles + 1) + 2;   // embed, the schedule's net calls, heads
        assertEquals(result.steps * perStep, calls.size());
        int[] stepCalls = {0};
        ArtifactMetadata step = meta();
        HaltingLoop.Result fixed = Loops.forArtifact(step, init, new Loops.Runtime() {
            public StepModel stepGraph(ArtifactMetadata m) { return fake(m, stepCalls); }
            public NetStepModel.Program netProgram(ArtifactMetadata m) { throw new AssertionError("a step graph"); }
        }).solve(SudokuCodec.encode("1...2...3...4..."), 0, false, null);
        assertEquals(step.haltMaxSteps, fixed.steps);
        assertEquals(step.haltMaxSteps, stepCalls[0]);
        stepCalls[0] = 0;
        HaltingLoop longer = Loops.forArtifact(step, init, new Loops.Runtime() {   // test-time steps beyond N_sup
            public StepModel stepGraph(ArtifactMetadata m) { return fake(m, stepCalls); }
            public NetStepModel.Program netProgram(ArtifactMetadata m) { throw new AssertionError("a step graph"); }
        });
        assertEquals(3 * step.haltMaxSteps, longer.solve(SudokuCodec.encode("1...2...3...4..."), 0, false, null,
            3 * step.haltMaxSteps).steps);
        assertEquals(3 * step.haltMaxSteps, stepCalls[0]);
        assertThrows(IllegalArgumentException.class, () -> longer.solve(new int[16], 0, false, null, 0));
        ArtifactMetadata unrolled = ArtifactMetadata.parse(json.replace("\"recursion\": \"step\"", "\"recursion\": \"unrolled\""));
        assertThrows(IllegalArgumentException.class, () -> Loops.forArtifact(unrolled, init, runtime));
    }

    @Test
    public void argmaxPicksLargestPerCell() {
        float[] logits = {0f, 2f, 1f, 5f, -1f, 0f};
        assertArrayEquals(new int[] {1, 0}, HaltingLoop.argmax(logits, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> HaltingLoop.argmax(logits, 3, 3));
    }

    /** One row of the fake step graphs below: y[0] counts steps, q_halt > 0 once it passes the puzzle's first
     *  token, and every cell's answer is the step count mod vocab (so a wrong step count shows in the answer). */
    private static float fakeRow(ArtifactMetadata m, int[] inputs, int in, float[] y, int at, float[] logits, int out) {
        y[at] += 1f;
        int steps = Math.round(y[at] - FAKE_Y0);
        for (int c = 0; c < m.seqLen; c++) logits[out + c * m.vocabSize + steps % m.vocabSize] = 1f;
        return steps - inputs[in];
    }

    private static float FAKE_Y0;

    /** The test artifact's metadata as if exported with --batch `batch`. */
    private static ArtifactMetadata batched(int batch) throws IOException {
        String json = new String(resource("metadata.json"), StandardCharsets.UTF_8);
        return ArtifactMetadata.parse(json.replaceFirst("\"batch\":\\s*1", "\"batch\": " + batch)
            .replaceFirst("\"state_shape\":\\s*\\[\\s*1", "\"state_shape\": [" + batch));
    }

    @Test
    public void continuousBatchingGivesEachPuzzleTheAnswerItGetsAlone() throws IOException {
        ArtifactMetadata one = meta(), three = batched(3);
        assertEquals(3, three.stateShape[0]);
        InitState init = new InitState(resource("init_state.f32"), one.hiddenSize);
        FAKE_Y0 = init.hInit[0];
        int rowState = one.stateShape[1] * one.hiddenSize;
        int[] calls = {0};
        StreamingLoop.BatchStepModel batched = (inputs, ids, y, z) -> {
            calls[0]++;
            float[] y2 = y.clone(), logits = new float[3 * one.seqLen * one.vocabSize], q = new float[3];
            for (int r = 0; r < 3; r++) {
                q[r] = fakeRow(one, inputs, r * one.seqLen, y2, r * rowState, logits, r * one.seqLen * one.vocabSize);
            }
            return new StreamingLoop.BatchStepModel.Output(y2, z.clone(), logits, q);
        };
        StepModel alone = (inputs, ids, y, z) -> {
            float[] y2 = y.clone(), logits = new float[one.seqLen * one.vocabSize];
            float q = fakeRow(one, inputs, 0, y2, 0, logits, 0);
            return new StepModel.Output(y2, z.clone(), logits, q);
        };
        String[] texts = {"4...............", "1...............", "3...............", "2...............",
                          "4...............", "1...............", "2..............."};
        int[][] puzzles = new int[texts.length][];
        for (int i = 0; i < texts.length; i++) puzzles[i] = SudokuCodec.encode(texts[i]);
        HaltingLoop.Result[] streamed = new StreamingLoop(batched, three, init)
            .solve(puzzles, new int[texts.length], true, 16);
        HaltingLoop loop = new HaltingLoop(alone, one, init);
        int total = 0;
        for (int i = 0; i < texts.length; i++) {
            HaltingLoop.Result want = loop.solve(puzzles[i], 0, true, null);
            assertEquals("steps of puzzle " + i, want.steps, streamed[i].steps);
            assertArrayEquals("answer of puzzle " + i, want.prediction, streamed[i].prediction);
            assertTrue(streamed[i].halted);
            total += want.steps;
        }
        assertTrue("a halted row takes the next puzzle: fewer calls than batches of the slowest row",
            calls[0] < (texts.length + 2) / 3 * 16 && calls[0] >= total / 3);
        HaltingLoop.Result[] fixed = new StreamingLoop(batched, three, init).solve(puzzles, new int[texts.length], false, 5);
        for (HaltingLoop.Result r : fixed) assertEquals(5, r.steps);
        assertThrows(IllegalArgumentException.class, () -> new StreamingLoop(batched, three, init)
            .solve(new int[][] {new int[3]}, new int[1], true, 16));
    }

    /** Tries streamed through a batch-3 step graph: every puzzle gets the answer, copy, verdict and steps it gets
     *  alone (a solved grid on copy 0, a puzzle solved on copy 2, one never solved: the vote over 4 copies). */
    @Test
    public void streamedTriesGiveEachPuzzleWhatItGetsAlone() throws IOException {
        ArtifactMetadata one = meta(), three = batched(3);
        InitState init = new InitState(resource("init_state.f32"), one.hiddenSize);
        int[] solution = {1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1};
        int[] puzzle = solution.clone();
        for (int i : new int[] {0, 5, 6, 9, 10, 15}) puzzle[i] = 0;
        int[] never = new int[16];
        never[0] = 1;
        StepModel alone = solvesCopyTwo(one, puzzle, solution);
        int cells = one.seqLen, vocab = one.vocabSize;
        StreamingLoop.BatchStepModel batched = (inputs, ids, y, z) -> {
            float[] logits = new float[3 * cells * vocab], q = new float[3];
            for (int r = 0; r < 3; r++) {
                int[] row = java.util.Arrays.copyOfRange(inputs, r * cells, (r + 1) * cells);
                System.arraycopy(alone.step(row, ids, y, z).logits, 0, logits, r * cells * vocab, cells * vocab);
                q[r] = -1f;
            }
            return new StreamingLoop.BatchStepModel.Output(y, z, logits, q);
        };
        int[][] puzzles = {solution, puzzle, never, puzzle};
        Tries.Result[] streamed = Tries.solveAll(new StreamingLoop(batched, three, init), PuzzleTask.SUDOKU, puzzles,
                                                 4, 4, 16, 2);
        HaltingLoop loop = new HaltingLoop(alone, one, init);
        for (int i = 0; i < puzzles.length; i++) {
            Tries.Result want = Tries.solve(loop, PuzzleTask.SUDOKU, puzzles[i], 4, 4, 16, 2);
            assertArrayEquals("answer of puzzle " + i, want.answer, streamed[i].answer);
            assertEquals("copy of puzzle " + i, want.copy, streamed[i].copy);
            assertEquals("steps of puzzle " + i, want.steps, streamed[i].steps);
            assertEquals(want.verified, streamed[i].verified);
            assertEquals(want.copies, streamed[i].copies);
        }
        assertEquals(0, streamed[0].copy);
        assertTrue(streamed[0].verified && streamed[1].verified && !streamed[2].verified);
        assertEquals(2, streamed[1].copy);
        assertEquals(4, streamed[2].copies);
        assertThrows(IllegalArgumentException.class,
            () -> Tries.solveAll(new StreamingLoop(batched, three, init), PuzzleTask.MAZE, new int[][] {never}, 4, 9, 16, 2));
    }

    private static final String MAZE = "#####" + "#S  #" + "# # #" + "#  G#" + "#####";

    /** The maze rules accept either shortest path and nothing else; tries find the copy (rows reversed) that a
     *  model solves alone, and map its path back onto the maze as given. */
    @Test
    public void mazeTriesAcceptOnlyAShortestPath() {
        int[] maze = MazeCodec.encode(MAZE);
        int[] top = MazeCodec.encode("#####" + "#Soo#" + "# #o#" + "#  G#" + "#####");
        int[] left = MazeCodec.encode("#####" + "#S  #" + "#o# #" + "#ooG#" + "#####");
        int[] longer = MazeCodec.encode("#####" + "#Soo#" + "#o#o#" + "#  G#" + "#####");
        int[] throughWall = MazeCodec.encode("#####" + "#S  #" + "#ooo#" + "#  G#" + "#####");
        assertTrue(MazeRules.accepts(maze, top, 5) && MazeRules.accepts(maze, left, 5));
        assertFalse(MazeRules.accepts(maze, longer, 5));
        assertFalse(MazeRules.accepts(maze, throughWall, 5));
        assertFalse(MazeRules.accepts(maze, maze, 5));
        PuzzleViews.View one = PuzzleViews.maze(5, 1);
        int[] seenOne = one.apply(maze), solvedOne = one.apply(top);
        Tries.Runner model = (tokens, stops, maxSteps) -> {   // solves only copy 1; else repeats its input
            HaltingLoop.Result[] out = new HaltingLoop.Result[tokens.length];
            for (int i = 0; i < tokens.length; i++) {
                int[] answer = java.util.Arrays.equals(tokens[i], seenOne) ? solvedOne : tokens[i];
                HaltingLoop.Stop stop = stops.apply(i);
                int k = 1;
                while (!stop.stops(k, answer, -1f) && k < maxSteps) k++;
                out[i] = new HaltingLoop.Result(answer, k, k < maxSteps, -1f);
            }
            return out;
        };
        Tries.Result r = Tries.solveAll(model, PuzzleTask.MAZE, new int[][] {maze}, 5, 8, 16, 2)[0];
        assertTrue(r.verified);
        assertEquals(1, r.copy);
        assertEquals(2, r.copies);
        assertArrayEquals(top, r.answer);
        assertEquals(3 + 1, r.steps);   // copy 0 gives up after 2 unchanged steps; copy 1 is accepted at its first
    }
}
