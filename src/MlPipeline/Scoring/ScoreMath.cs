namespace MlPipeline.Scoring;

/// <summary>From a model's class scores to probabilities and the predicted class.</summary>
internal static class ScoreMath
{
    /// <summary>
    /// Writes the probabilities of one image's <paramref name="scores"/>: the scores themselves when the output is
    /// known to hold probabilities or they look like them (each in [0, 1], summing to 1 within 1e-3), else their softmax.
    /// </summary>
    public static void ToProbabilities(ReadOnlySpan<float> scores, bool outputIsProbabilities, Span<float> probabilities)
    {
        if (outputIsProbabilities || LooksLikeProbabilities(scores)) { scores.CopyTo(probabilities); }
        else { Softmax(scores, probabilities); }
    }

    /// <summary>
    /// The index of the largest value; the first on a tie. MlPipeline's one argmax (scoring, evaluation, the export
    /// check). A NaN is never larger than anything, so it is skipped, except in first place, where nothing replaces it:
    /// callers reject non-finite scores before asking.
    /// </summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) { best = i; }
        }
        return best;
    }

    /// <summary>The index of the first NaN or infinite value, or -1 when all are finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) { return i; }
        }
        return -1;
    }

    static bool LooksLikeProbabilities(ReadOnlySpan<float> scores)
    {
        double sum = 0;
        foreach (float s in scores)
        {
            if (s is < 0 or > 1) { return false; }
            sum += s;
        }
        return Math.Abs(sum - 1) < 1e-3;
    }

    static void Softmax(ReadOnlySpan<float> logits, Span<float> result)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits) { max = Math.Max(max, l); }
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) { result[i] = MathF.Exp(logits[i] - max); sum += result[i]; }
        for (int i = 0; i < result.Length; i++) { result[i] = (float)(result[i] / sum); }
    }
}
