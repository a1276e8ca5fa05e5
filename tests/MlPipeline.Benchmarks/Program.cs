using MlPipeline.Benchmarks;

// Benchmarks print measured numbers; they assert nothing. See README "Measured numbers" for how each is run.
string which = args.Length > 0 ? args[0] : "help";
string[] rest = args.Length > 0 ? args[1..] : [];
return which switch
{
    "train" => TrainBenchmark.Run(rest),
    "score" => ScoreBenchmark.Run(rest),
    "transfer" => TransferBenchmark.Run(rest),
    "large-train" => LargeTrainBenchmark.Run(rest),
    "score-memory" => ScoreMemoryBenchmark.Run(rest),
    "score-photos" => LargePhotoBenchmark.Run(rest),
    "predict-leak" => PredictLeakBenchmark.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: MlPipeline.Benchmarks train [--data DIR [--size WxH] [--val-split F] [--test DIR] | --dataset mnist|fashion-mnist] [--model cnn|mlp|resnet] [--epochs N] [--threads N] [--init pytorch|glorot] [--python PATH] [--rounds R] [--load-only] [--no-pytorch] [--holdout F] [--lr R] [--augment A] [--early-stopping N [--monitor val_accuracy]] [--lr-schedule S] [--class-weights balanced] [--weight-decay W] [--label-smoothing S] | transfer --data DIR [--test DIR] [--per-class N] [--val-split F] [--holdout F] [--head linear|mlp] [--fine-tune N] [--background white|black] [--cache FILE] [--augment A --augment-copies N] [--epochs N] [--lr R] [--early-stopping N [--monitor val_loss]] [--lr-schedule S] [--weight-decay W] [--label-smoothing S] [--threads N] | large-train [--data EMOJI-DIR] [--copies 4,16,64] [--rounds R] [--threads N] [--side S] [--work DIR] | score [--batch-size N] [--rounds R] [--stages] [--rgb64] | score-memory [--copies N] | score-photos [--count N] [--full-decode] | predict-leak [--predictions N] [--loads N]");
    return 2;
}
