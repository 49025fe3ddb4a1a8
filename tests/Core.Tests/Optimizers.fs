/// Optimizers as pure state transitions (issue 13): SGD, Adam, AdamW, RMSprop and Adagrad against torch.optim in
/// float64, five steps on a quadratic and on a logistic regression; chains equal to the named optimizers; schedules
/// against torch.optim.lr_scheduler; state round trips through JSON; bad input.
module Functional.Autodiff.Tests.Optimizers

open System
open System.Text.Json
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Training

// ---- from tests/reference/issue13_optimizers.py (torch 1.13, float64): parameters [w0; w1; w2; b] after each step
let expected =
    [
        ("sgd", "quadratic"),
            [ [ 0.4875; -0.5; 0.93125; 0.775 ]
              [ 0.48953125000000003; -0.69421875; 0.89125; 0.7975 ]
              [ 0.4996640625; -0.8466953125; 0.8718671875; 0.81775 ]
              [ 0.5138962890625; -0.9677294921875; 0.867080859375; 0.835975 ]
              [ 0.5297908984374999; -1.06490947265625; 0.872445849609375; 0.8523775 ] ]
        ("sgd", "logistic"),
            [ [ 0.4596455563614572; -0.21053785956231494; 1.0183825306380352; 0.733017696354655 ]
              [ 0.42113760596620775; -0.17215697601844662; 1.0357109749415; 0.716239588238524 ]
              [ 0.38440360856970707; -0.13482378271224024; 1.0520439170254108; 0.6996972281313859 ]
              [ 0.3493656255649152; -0.09850478850455789; 1.0674436743890212; 0.6834142738065958 ]
              [ 0.3159425608466096; -0.06316696261513255; 1.0819746025566062; 0.667407651459415 ] ]
        ("sgd weight_decay", "quadratic"),
            [ [ 0.485; -0.49874999999999997; 0.92625; 0.77125 ]
              [ 0.48516875; -0.690225; 0.8822125; 0.79026875 ]
              [ 0.49375884374999995; -0.83915325; 0.8593656562499999; 0.8072905312499999 ]
              [ 0.5066042003125; -0.95626720015625; 0.851444444375; 0.82252502546875 ]
              [ 0.521189390334375; -1.0494209674679686; 0.8538557005164062; 0.8361598977945313 ] ]
        ("sgd weight_decay", "logistic"),
            [ [ 0.4571455563614572; -0.20928785956231494; 1.0133825306380353; 0.729267696354655 ]
              [ 0.4163835203765937; -0.16986578746474618; 1.0256820518301542; 0.7088903528867634 ]
              [ 0.3776263782524874; -0.13169388861010387; 1.0369687912336385; 0.6888975018525537 ]
              [ 0.34078178867026476; -0.09473272712467759; 1.0473161184587922; 0.66931016360577 ]
              [ 0.3057550485389834; -0.05894366732595452; 1.0567986396693427; 0.6501422652253941 ] ]
        ("sgd momentum dampening", "quadratic"),
            [ [ 0.4875; -0.5; 0.93125; 0.775 ]
              [ 0.478078125; -0.899796875; 0.833375; 0.81775 ]
              [ 0.48975914062500003; -1.3554169531250002; 0.749274921875; 0.8726275 ]
              [ 0.5358895353515626; -1.774115190429688; 0.719942962109375; 0.933480775 ]
              [ 0.6187506162773438; -2.084314048759766; 0.773162188334961; 0.99423545275 ] ]
        ("sgd momentum dampening", "logistic"),
            [ [ 0.4596455563614572; -0.21053785956231494; 1.0183825306380352; 0.733017696354655 ]
              [ 0.3886694017310442; -0.14047913797891687; 1.0505224080853854; 0.7026333257693266 ]
              [ 0.2930733149290555; -0.044611646992975804; 1.0934043225364705; 0.6605976618558259 ]
              [ 0.17923931831506826; 0.0721329328949712; 1.1438679812140238; 0.6087756316317022 ]
              [ 0.0534646293663781; 0.20484876998042578; 1.1989747900417123; 0.5491371569808903 ] ]
        ("sgd nesterov weight_decay", "quadratic"),
            [ [ 0.4715; -0.722625; 0.859875; 0.790375 ]
              [ 0.4856091875; -1.18997475; 0.7672746249999999; 0.8399076875 ]
              [ 0.54395151553125; -1.55662911675; 0.7611763737187499; 0.89161596009375 ]
              [ 0.6277625305081562; -1.7863609238312654; 0.8449641594738124; 0.9396472978581718 ]
              [ 0.7113840552477778; -1.8887176521108728; 0.9947791031871112; 0.9796735741523056 ] ]
        ("sgd nesterov weight_decay", "logistic"),
            [ [ 0.4185765570867687; -0.17264693316839838; 1.0254268082122668; 0.7106086230738445 ]
              [ 0.3100190851818303; -0.06698895447421707; 1.0578033633673976; 0.6557730863529512 ]
              [ 0.1836020457800758; 0.05994355525649606; 1.093372236174277; 0.5886507614704705 ]
              [ 0.04784754618958609; 0.20134063894075296; 1.129172659271977; 0.5125309578778572 ]
              [ -0.09007731288567891; 0.3508073840259515; 1.1634842051303866; 0.43062868028084605 ] ]
        ("adam", "quadratic"),
            [ [ 0.40000000799999935; -0.3499999996; 0.9000000014545455; 0.8499999960000002 ]
              [ 0.4276113003932255; -0.449397662077674; 0.80229295483444; 0.9457490093135461 ]
              [ 0.4789186968034637; -0.5478984418024859; 0.7113023870379032; 1.0302083192663305 ]
              [ 0.5240502459717612; -0.6451311245941875; 0.6344385402939436; 1.0931381184032785 ]
              [ 0.5431701560114283; -0.740652598513178; 0.5804934003096474; 1.1276039284021468 ] ]
        ("adam", "logistic"),
            [ [ 0.4000000024780418; -0.15000000253407433; 1.099999994560053; 0.6500000058884823 ]
              [ 0.30066635297352606; -0.05021199156117814; 1.1987247032268258; 0.5504692757177538 ]
              [ 0.2026002646540539; 0.04920348967885392; 1.294920452884313; 0.45190488935801976 ]
              [ 0.10642477382741891; 0.14808044934701187; 1.3872822764183812; 0.3548707151107558 ]
              [ 0.012708444355020276; 0.24624752450772183; 1.4747429487360408; 0.25993696262160426 ] ]
        ("adam betas weight_decay amsgrad", "quadratic"),
            [ [ 0.4000000057142854; -0.3499999995959596; 0.9000000012698413; 0.8499999942857146 ]
              [ 0.40663446540731163; -0.4491168287989929; 0.8024758145010843; 0.9371273004316476 ]
              [ 0.4510975359109511; -0.5468470303730932; 0.7115098735029958; 0.9876227575709126 ]
              [ 0.49690279302462403; -0.6426316019829758; 0.6353601522277101; 0.9943264887065054 ]
              [ 0.5188820986135428; -0.7358316252787211; 0.5819644476817224; 0.9712445446548813 ] ]
        ("adam betas weight_decay amsgrad", "logistic"),
            [ [ 0.4000000022048556; -0.15000000238310046; 1.0999999880704299; 0.6500000040845828 ]
              [ 0.30097968620028703; -0.05044926071897514; 1.1892984087152265; 0.5507226610006308 ]
              [ 0.20378435778475162; 0.04830141018057629; 1.2470861963854079; 0.4528574769052306 ]
              [ 0.10921906558862511; 0.14586305241951356; 1.2623372945950766; 0.3571472945596742 ]
              [ 0.01799720852002741; 0.2417660356021245; 1.2414649457227314; 0.2643777317281758 ] ]
        ("adamw", "quadratic"),
            [ [ 0.39950000799999935; -0.34974999959999997; 0.8990000014545454; 0.8492499960000002 ]
              [ 0.42695401666763955; -0.44879652968241057; 0.8004192388377173; 0.9442141193055944 ]
              [ 0.4780788783610955; -0.5468462893815165; 0.708730776387164; 1.0280156002281406 ]
              [ 0.523187134182485; -0.6435304438421023; 0.6314176280627606; 1.0906381688439508 ]
              [ 0.5424679020702334; -0.7384107943070717; 0.5772997010768788; 1.125144638320457 ] ]
        ("adamw", "logistic"),
            [ [ 0.3995000024780418; -0.14975000253407433; 1.0989999945600528; 0.6492500058884823 ]
              [ 0.2997681349171734; -0.0498124443263329; 1.196629890333079; 0.5490735658965467 ]
              [ 0.20140547668059294; 0.049652196062821646; 1.2916469013453724; 0.44997064799999353 ]
              [ 0.10503411304281364; 0.1484779556664837; 1.382765055254857; 0.35250826266737145 ]
              [ 0.011221235508651964; 0.2464934019040933; 1.4689420490123886; 0.25726018848593274 ] ]
        ("adamw weight_decay amsgrad", "quadratic"),
            [ [ 0.39500000799999935; -0.3474999996; 0.8900000014545455; 0.8424999960000001 ]
              [ 0.42099070930747573; -0.4434087677005341; 0.7836535594201469; 0.930439491949152 ]
              [ 0.4704265374256059; -0.5374531437956093; 0.6858834706217036; 1.008290262016414 ]
              [ 0.5152178810705016; -0.6292945109650556; 0.60484944329512; 1.0679754693303418 ]
              [ 0.5359937114555331; -0.7185471758442901; 0.5494556124474514; 1.1029074295381478 ] ]
        ("adamw weight_decay amsgrad", "logistic"),
            [ [ 0.3950000024780418; -0.14750000253407433; 1.089999994560053; 0.6425000058884822 ]
              [ 0.29172928427496214; -0.04623908439556565; 1.1778666067444685; 0.536580423123028 ]
              [ 0.19077813778944375; 0.053631936777423776; 1.2624622096599014; 0.4327582504739579 ]
              [ 0.0927505438509259; 0.1519562737970126; 1.3426758003431623; 0.3316202778499697 ]
              [ -0.001808235627949864; 0.24857074770375293; 1.4176884818842197; 0.23376426459275434 ] ]
        ("rmsprop", "quadratic"),
            [ [ 0.40000007999993603; -0.3499999960000001; 0.9000000145454525; 0.849999960000016 ]
              [ 0.4849191985087987; -0.4158241405499845; 0.8419637284583933; 0.9016397302701147 ]
              [ 0.4695888035395962; -0.46859110960386324; 0.8052534259688802; 0.9338576594864284 ]
              [ 0.48089215302328037; -0.512866000176839; 0.7794229477311154; 0.9551332336903954 ]
              [ 0.4845346259166316; -0.551671268454556; 0.7618607511578351; 0.9694877251459738 ] ]
        ("rmsprop", "logistic"),
            [ [ 0.40000002478041236; -0.15000002534073764; 1.0999999456005554; 0.6500000588847916 ]
              [ 0.33456585748537926; -0.08135304008259545; 1.1622441439237596; 0.583313520677213 ]
              [ 0.28381956471990655; -0.02629614741946725; 1.2086521299496; 0.5310997011403774 ]
              [ 0.24161169588834291; 0.020745814573359576; 1.2459448097471248; 0.4873885992421663 ]
              [ 0.2051142696944057; 0.06235384256194651; 1.2772191234155854; 0.4494059068690025 ] ]
        ("rmsprop centered momentum weight_decay", "quadratic"),
            [ [ 0.3994962761941034; -0.3505037774447051; 0.8994962313007567; 0.8505037238058966 ]
              [ 0.3770892708512093; -0.5071800657746953; 0.749199404986069; 0.9759556372302584 ]
              [ 0.4325842920518063; -0.6949630427900079; 0.5910930707682275; 1.0517490854612854 ]
              [ 0.5222721707517046; -0.895890576172227; 0.4672319676189365; 1.0578202132163717 ]
              [ 0.5890888896336706; -1.095953942046942; 0.4043837706605611; 1.008640030079962 ] ]
        ("rmsprop centered momentum weight_decay", "logistic"),
            [ [ 0.3994962407453428; -0.1494962425457958; 1.1005036610253418; 0.6494962597324755 ]
              [ 0.24328111441856295; 0.00947864624516675; 1.2301941029686938; 0.4920188214195236 ]
              [ 0.0580390369274364; 0.20394867116000642; 1.3172320704601808; 0.3032368735050686 ]
              [ -0.1376132846021272; 0.4174561770066783; 1.336219214176111; 0.10210179030103364 ]
              [ -0.33000380124287293; 0.6360471632669941; 1.298830896429065; -0.09570257934578043 ] ]
        ("adagrad", "quadratic"),
            [ [ 0.40000000008000003; -0.349999999996; 0.9000000000145454; 0.84999999996 ]
              [ 0.4847998304161644; -0.4156365478312923; 0.8421571222902349; 0.9014495754951937 ]
              [ 0.4696934528696741; -0.4681122912369086; 0.8056676767272705; 0.9334721001399187 ]
              [ 0.480688448211827; -0.5120287442901443; 0.7800407099489695; 0.9546013176454343 ]
              [ 0.48441818614713816; -0.5504162974690512; 0.7626005406550556; 0.9688723284215213 ] ]
        ("adagrad", "logistic"),
            [ [ 0.4000000000247804; -0.15000000002534075; 1.0999999999456005; 0.6500000000588848 ]
              [ 0.3347539859316175; -0.08153559316807531; 1.162052540630248; 0.5834996746134571 ]
              [ 0.2842927714774002; -0.026768850238518577; 1.2081858311200613; 0.5315720535404193 ]
              [ 0.2424349732070314; 0.019903558478114765; 1.2451573942247969; 0.48821545433956715 ]
              [ 0.20633648338520094; 0.061077908077087746; 1.276081274870434; 0.45063913993259314 ] ]
        ("adagrad lr_decay weight_decay initial_accumulator_value", "quadratic"),
            [ [ 0.4759760621963877; -0.3461527649688164; 0.9255934343924556; 0.7740239378036123 ]
              [ 0.4671507953642163; -0.4052994085531548; 0.8806275261267483; 0.7921918394014484 ]
              [ 0.4642649535579415; -0.44831654729896564; 0.8496162955762105; 0.8063947377480287 ]
              [ 0.46398565868779656; -0.48200418179644866; 0.8268209938862467; 0.8177852632661436 ]
              [ 0.46489770782568685; -0.5095489593241294; 0.8094027009232109; 0.8271085920629012 ] ]
        ("adagrad lr_decay weight_decay initial_accumulator_value", "logistic"),
            [ [ 0.4460105381422244; -0.19896620007794935; 1.01177225720486; 0.7172823437370202 ]
              [ 0.40497635157402906; -0.1590783016151398; 1.0207323227399288; 0.6898020969767656 ]
              [ 0.37219547790820573; -0.12659214318946782; 1.027744469550094; 0.666326210565458 ]
              [ 0.3451267800073833; -0.0993769628101385; 1.033350740030669; 0.6459791057977387 ]
              [ 0.32223351633520636; -0.07609803381248895; 1.0379105556788386; 0.6281264251537786 ] ]
    ]
let schedules =
    [
        "StepLR(step_size=3, gamma=0.5)", [ 0.1; 0.1; 0.1; 0.05; 0.05; 0.05; 0.025; 0.025 ]
        "CosineAnnealingLR(T_max=5, eta_min=0.01)", [ 0.1; 0.09140576474687263; 0.06890576474687263; 0.04109423525312736; 0.018594235253127367; 0.01; 0.018594235253127367; 0.04109423525312739 ]
        "LinearLR(start_factor=0.25, total_iters=4)", [ 0.025; 0.043750000000000004; 0.06250000000000001; 0.08125000000000002; 0.10000000000000002; 0.10000000000000002; 0.10000000000000002; 0.10000000000000002 ]
    ]

// ---- end of the reference values

let private a =
    Value.FromRows([| [| 3.0; 0.5; -0.25 |]; [| 0.5; 2.0; 0.75 |]; [| -0.25; 0.75; 1.5 |] |])

let private c = Value.FromArray(1.0, -2.0, 0.5)

let private x =
    Value.FromRows(
        [|
            [| 0.5; -1.25; 2.0 |]
            [| 1.5; 0.25; -0.75 |]
            [| -0.5; 1.0; 0.5 |]
            [| 2.0; -0.5; -1.5 |]
            [| -1.75; 0.75; 1.25 |]
            [| 0.25; 2.25; -0.25 |]
            [| 1.0; -1.5; 0.75 |]
            [| -1.25; -0.25; -1.0 |]
        |]
    )

let private y = Value.FromArray(1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0)

let private p0 =
    Params.Of(struct ("w", Value.FromArray(0.5, -0.25, 1.0)), struct ("b", Value.Scalar 0.75))

let private quadratic (p: ParamVars) =
    let w, b = p["w"], p["b"]
    0.5 * Expr.Dot(w, Expr.MatMul(Expr.Const a, w)) - Expr.Dot(Expr.Const c, w) + 0.5 * b * b - b

let private logistic (p: ParamVars) =
    Expr.BinaryCrossEntropyWithLogits(Expr.MatMul(Expr.Const x, p["w"]) + p["b"], Expr.Const y)

let private problem name =
    match name with
    | "quadratic" -> AD.Grad(Func<ParamVars, Expr> quadratic)
    | _ -> AD.Grad(Func<ParamVars, Expr> logistic)

let private optimizer name =
    match name with
    | "sgd" -> Optimizer.Sgd(0.1)
    | "sgd weight_decay" -> Optimizer.Sgd(0.1, weightDecay = 0.05)
    | "sgd momentum dampening" -> Optimizer.Sgd(0.1, momentum = 0.9, dampening = 0.1)
    | "sgd nesterov weight_decay" -> Optimizer.Sgd(0.1, momentum = 0.9, nesterov = true, weightDecay = 0.05)
    | "adam" -> Optimizer.Adam(0.1)
    | "adam betas weight_decay amsgrad" -> Optimizer.Adam(0.1, betas = Nullable<struct (float * float)>(struct (0.8, 0.95)), weightDecay = 0.1, amsgrad = true)
    | "adamw" -> Optimizer.AdamW(0.1)
    | "adamw weight_decay amsgrad" -> Optimizer.AdamW(0.1, weightDecay = 0.1, amsgrad = true)
    | "rmsprop" -> Optimizer.RMSprop(0.01)
    | "rmsprop centered momentum weight_decay" -> Optimizer.RMSprop(0.01, momentum = 0.9, centered = true, weightDecay = 0.1)
    | "adagrad" -> Optimizer.Adagrad(0.1)
    | "adagrad lr_decay weight_decay initial_accumulator_value" ->
        Optimizer.Adagrad(0.1, lrDecay = 0.1, weightDecay = 0.1, initialAccumulatorValue = 0.5)
    | other -> failwithf "no optimizer %s" other

/// The same settings written as chains of gradient transformations.
let private chain name =
    match name with
    | "sgd" -> Optimizer.Chain(Optimizer.Scale(-0.1))
    | "sgd weight_decay" -> Optimizer.Chain(Optimizer.AddDecayedWeights(0.05), Optimizer.Scale(-0.1))
    | "sgd momentum dampening" -> Optimizer.Chain(Optimizer.Trace(0.9, 0.1), Optimizer.Scale(-0.1))
    | "sgd nesterov weight_decay" ->
        Optimizer.Chain(Optimizer.AddDecayedWeights(0.05), Optimizer.Trace(0.9, nesterov = true), Optimizer.Scale(-0.1))
    | "adam" -> Optimizer.Chain(Optimizer.ScaleByAdam(), Optimizer.Scale(-0.1))
    | "adam betas weight_decay amsgrad" ->
        Optimizer.Chain(Optimizer.AddDecayedWeights(0.1), Optimizer.ScaleByAdam(0.8, 0.95, amsgrad = true), Optimizer.Scale(-0.1))
    | "adamw" -> Optimizer.Chain(Optimizer.ScaleByAdam(), Optimizer.AddDecayedWeights(0.01), Optimizer.Scale(-0.1))
    | "adamw weight_decay amsgrad" ->
        Optimizer.Chain(Optimizer.ScaleByAdam(amsgrad = true), Optimizer.AddDecayedWeights(0.1), Optimizer.Scale(-0.1))
    | "rmsprop" -> Optimizer.Chain(Optimizer.ScaleByRms(), Optimizer.Scale(-0.01))
    | "rmsprop centered momentum weight_decay" ->
        Optimizer.Chain(Optimizer.AddDecayedWeights(0.1), Optimizer.ScaleByRms(centered = true), Optimizer.Trace(0.9), Optimizer.Scale(-0.01))
    | "adagrad" -> Optimizer.Chain(Optimizer.ScaleByAdagrad(), Optimizer.Scale(-0.1))
    | "adagrad lr_decay weight_decay initial_accumulator_value" ->
        Optimizer.Chain(
            Optimizer.AddDecayedWeights(0.1),
            Optimizer.ScaleByAdagrad(0.5),
            Optimizer.ScaleBySchedule(Func<int, float>(fun t -> -0.1 / (1.0 + float t * 0.1)))
        )
    | other -> failwithf "no chain %s" other

/// Five steps from p0: the parameters and the state after each.
let private run (opt: Optimizer) (grad: Func<Params, Params>) =
    (p0, opt.Init p0)
    |> Seq.unfold (fun (p, s) ->
        let struct (p', s') = opt.Step(p, grad.Invoke p, s)
        Some(((p', s'), (p', s'))))
    |> Seq.take 5
    |> List.ofSeq

let private flat (p: Params) =
    Array.append (p["w"].ToArray()) (p["b"].ToArray())

let private cases =
    expected |> List.map (fun ((o, f), steps) -> sprintf "%s on the %s matches torch.optim" o f, o, f, steps)

let ``five steps match torch.optim to 1e-12 relative`` (opt: string) (problem': string) (steps: float list list) =
    let got = run (optimizer opt) (problem problem') |> List.map (fst >> flat)
    List.zip got steps
    |> List.iteri (fun k (g, e) ->
        List.iteri
            (fun i e ->
                let gi = g[i]
                if abs (gi - e) > 1e-12 * abs e then
                    Assert.Fail(sprintf "%s, %s: step %d, element %d: %.17g, torch %.17g" opt problem' (k + 1) i gi e))
            e)

let private names = expected |> List.map (fst >> fst) |> List.distinct

let ``the named optimizer is its chain, bit for bit`` (opt: string) =
    for f in [ "quadratic"; "logistic" ] do
        let named = run (optimizer opt) (problem f)
        let chained = run (chain opt) (problem f)
        for ((p, s), (q, t)) in List.zip named chained do
            Assert.That(flat p |> Array.map BitConverter.DoubleToInt64Bits, Is.EqualTo(flat q |> Array.map BitConverter.DoubleToInt64Bits))
            Assert.That(s, Is.EqualTo t)

let ``the state round-trips through JSON and the run continues from it bit for bit`` (opt: string) =
    let o = optimizer opt
    let grad = problem "logistic"
    let steps = run o grad
    let (p2, s2) = steps[1]
    let json = JsonSerializer.Serialize s2
    let back =
        match JsonSerializer.Deserialize<OptimizerState> json with
        | null -> failwith "null state"
        | b -> b
    Assert.That(back, Is.EqualTo s2)
    Assert.That(back.Step, Is.EqualTo 2)
    let struct (p3, s3) = o.Step(p2, grad.Invoke p2, back)
    Assert.That(flat p3, Is.EqualTo(flat (fst steps[2])))
    Assert.That(s3, Is.EqualTo(snd steps[2]))
    Assert.That(JsonSerializer.Serialize s3, Is.EqualTo(JsonSerializer.Serialize(snd steps[2])))

let ``a step changes nothing it is given`` () =
    let o = Optimizer.Adam(0.1)
    let s0 = o.Init p0
    let json = JsonSerializer.Serialize s0
    let g = (problem "quadratic").Invoke p0
    let struct (p1, s1) = o.Step(p0, g, s0)
    let struct (p1', s1') = o.Step(p0, g, s0)
    Assert.That(JsonSerializer.Serialize s0, Is.EqualTo json)
    Assert.That(s0.Step, Is.EqualTo 0)
    Assert.That(s1.Step, Is.EqualTo 1)
    Assert.That(flat p0, Is.EqualTo [| 0.5; -0.25; 1.0; 0.75 |])
    Assert.That(flat p1', Is.EqualTo(flat p1))
    Assert.That(s1', Is.EqualTo s1)

let private scheduleOf name =
    match name with
    | "StepLR(step_size=3, gamma=0.5)" -> Schedules.StepDecay(0.1, 3, 0.5)
    | "CosineAnnealingLR(T_max=5, eta_min=0.01)" -> Schedules.Cosine(0.1, 5, 0.01)
    | "LinearLR(start_factor=0.25, total_iters=4)" -> Schedules.LinearWarmup(0.1, 0.25, totalIters = 4)
    | other -> failwithf "no schedule %s" other

let private scheduleCases =
    schedules |> List.map (fun (n, rates) -> sprintf "%s gives torch's rates" n, n, rates)

let ``schedules give torch.optim.lr_scheduler's rates`` (name: string) (rates: float list) =
    let s = scheduleOf name
    rates |> List.iteri (fun t r -> Assert.That(s.Invoke t, Is.EqualTo(r).Within(1e-12 * r), sprintf "%s at step %d" name t))
    Assert.That((Schedules.Constant 0.5).Invoke 7, Is.EqualTo 0.5)

let ``a schedule drives the rate through the chain`` () =
    let grad = problem "quadratic"
    let sched = Schedules.StepDecay(0.1, 2, 0.5)
    let scheduled = run (Optimizer.Chain(Optimizer.ScaleByLearningRate sched)) grad |> List.map fst
    // SGD by hand at the rate of each step.
    let byHand =
        [ 0..4 ]
        |> List.scan (fun (p: Params) t -> p - sched.Invoke t * grad.Invoke p) p0
        |> List.tail
    for (s, h) in List.zip scheduled byHand do
        Assert.That(flat s, Is.EqualTo(flat h))

let ``clip by global norm scales the gradient down to the norm and leaves a small one alone`` () =
    let g = Params.Of(struct ("w", Value.FromArray(3.0, 0.0)), struct ("b", Value.Scalar 4.0))
    let p = g.ZerosLike()
    let clip = Optimizer.Chain(Optimizer.ClipByGlobalNorm 1.0, Optimizer.Scale -1.0)
    let struct (p1, _) = clip.Step(p, g, clip.Init p)
    Assert.That(flat p1, Is.EqualTo([| -0.6; -0.0; -0.8 |]).Within(1e-15))
    let struct (p2, _) = clip.Step(p, 0.1 * g, clip.Init p)
    Assert.That(flat p2, Is.EqualTo(flat (-0.1 * g)))

// ---- bad input

let private throws<'E when 'E :> exn> (f: unit -> unit) : 'E =
    let e =
        try
            f ()
            None
        with :? 'E as e ->
            Some e
    match e with
    | None -> failwithf "expected %s" typeof<'E>.Name
    | Some e ->
        Assert.That(e.Message, Does.Contain "Optimizers.fs:", "the message names the user's line")
        e

let ``state from other parameters names the first parameter that differs`` () =
    let o = Optimizer.Adam()
    let g = (problem "quadratic").Invoke p0
    let other = Params.Of(struct ("w", Value.FromArray(0.5, -0.25, 1.0)), struct ("bias", Value.Scalar 0.75))
    let e = throws<ArgumentException> (fun () -> o.Step(p0, g, o.Init other) |> ignore)
    Assert.That(e.Message, Does.Contain("'bias'").And.Contain("'b'").And.Contain("exp_avg"))
    let wider = Params.Of(struct ("w", Value.FromArray(0.5, -0.25, 1.0, 2.0)), struct ("b", Value.Scalar 0.75))
    let e = throws<ArgumentException> (fun () -> o.Step(p0, g, o.Init wider) |> ignore)
    Assert.That(e.Message, Does.Contain("parameter 'w' is vector(3)").And.Contain("vector(4)"))
    let e = throws<ArgumentException> (fun () -> o.Step(p0, g, Optimizer.Sgd(0.1, momentum = 0.9).Init p0) |> ignore)
    Assert.That(e.Message, Does.Contain("another optimizer").And.Contain("0.momentum_buffer"))
    let e = throws<ArgumentException> (fun () -> o.Step(p0, other, o.Init p0) |> ignore)
    Assert.That(e.Message, Does.Contain("gradients").And.Contain("'bias'"))

let ``a non-finite gradient names the parameter and the step, or skips the step by option`` () =
    let o = Optimizer.Sgd(0.1, momentum = 0.9)
    let grad = problem "quadratic"
    let struct (p1, s1) = o.Step(p0, grad.Invoke p0, o.Init p0)
    let bad = Params.Of(struct ("w", Value.FromArray(0.0, nan, 1.0)), struct ("b", Value.Scalar 1.0))
    let e = throws<NonFiniteGradientException> (fun () -> o.Step(p1, bad, s1) |> ignore)
    Assert.That(e.Parameter, Is.EqualTo "w")
    Assert.That(e.Step, Is.EqualTo 1)
    Assert.That(e.Message, Does.Contain("parameter 'w'").And.Contain("at step 1").And.Contain("NaN at element 1"))
    let inf = Params.Of(struct ("w", Value.FromArray(0.0, 1.0, 1.0)), struct ("b", Value.Scalar infinity))
    let e = throws<NonFiniteGradientException> (fun () -> o.Step(p1, inf, s1) |> ignore)
    Assert.That(e.Parameter, Is.EqualTo "b")
    let skipping = o.WithNonFiniteGradients NonFiniteGradients.Skip
    let struct (p2, s2) = skipping.Step(p1, bad, s1)
    Assert.That(Object.ReferenceEquals(p2, p1) && Object.ReferenceEquals(s2, s1))
    let struct (p3, _) = skipping.Step(p1, grad.Invoke p1, s1)
    let struct (q3, _) = o.Step(p1, grad.Invoke p1, s1)
    Assert.That(flat p3, Is.EqualTo(flat q3))

let ``a learning rate at or below 0, or NaN, is refused where the optimizer is made`` () =
    for lr in [ 0.0; -0.1; nan; infinity ] do
        for make in
            [
                fun () -> Optimizer.Sgd lr |> ignore
                fun () -> Optimizer.Adam lr |> ignore
                fun () -> Optimizer.AdamW lr |> ignore
                fun () -> Optimizer.RMSprop lr |> ignore
                fun () -> Optimizer.Adagrad lr |> ignore
                fun () -> Schedules.Cosine(lr, 10) |> ignore
            ] do
            let e = throws<ArgumentOutOfRangeException> make
            Assert.That(e.ParamName, Is.EqualTo "lr")
            Assert.That(e.Message, Does.Contain "learning rate")
    throws<ArgumentOutOfRangeException> (fun () -> Optimizer.Adam(betas = Nullable<struct (float * float)>(struct (0.9, 1.0))) |> ignore) |> ignore
    throws<ArgumentException> (fun () -> Optimizer.Sgd(0.1, nesterov = true) |> ignore) |> ignore
    throws<ArgumentOutOfRangeException> (fun () -> Optimizer.ClipByGlobalNorm 0.0 |> ignore) |> ignore
    let bad = Optimizer.Chain(Optimizer.ScaleByLearningRate(Func<int, float>(fun t -> if t = 0 then 0.1 else -1.0)))
    let struct (p1, s1) = bad.Step(p0, p0, bad.Init p0)
    let e = throws<ArgumentOutOfRangeException> (fun () -> bad.Step(p1, p0, s1) |> ignore)
    Assert.That(e.Message, Does.Contain "at step 1")

open Expecto

[<Tests>]
let tests =
    testList "Optimizers" [
        testList "five steps match torch.optim to 1e-12 relative" [ for n, o, f, steps in cases -> testCase n (fun () -> ``five steps match torch.optim to 1e-12 relative`` o f steps) ]
        testList "the named optimizer is its chain, bit for bit" [ for c in names -> testCase c (fun () -> ``the named optimizer is its chain, bit for bit`` c) ]
        testList "the state round-trips through JSON and the run continues from it bit for bit" [ for c in names -> testCase c (fun () -> ``the state round-trips through JSON and the run continues from it bit for bit`` c) ]
        testCase "a step changes nothing it is given" ``a step changes nothing it is given``
        testList "schedules give torch.optim.lr_scheduler's rates" [ for n, s, rates in scheduleCases -> testCase n (fun () -> ``schedules give torch.optim.lr_scheduler's rates`` s rates) ]
        testCase "a schedule drives the rate through the chain" ``a schedule drives the rate through the chain``
        testCase "clip by global norm scales the gradient down to the norm and leaves a small one alone" ``clip by global norm scales the gradient down to the norm and leaves a small one alone``
        testCase "state from other parameters names the first parameter that differs" ``state from other parameters names the first parameter that differs``
        testCase "a non-finite gradient names the parameter and the step, or skips the step by option" ``a non-finite gradient names the parameter and the step, or skips the step by option``
        testCase "a learning rate at or below 0, or NaN, is refused where the optimizer is made" ``a learning rate at or below 0, or NaN, is refused where the optimizer is made``
    ]
