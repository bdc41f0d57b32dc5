# Reference values for survey_stats' quantiles (svyquantile, survey >= 4.1: every interval.type x
# qrule, Taylor and replicate designs, na.rm = TRUE, domains) and raking (rake() with R's default
# and a tight control, calibrate(calfun = "raking")), computed with R's survey package.
# Run from tests/reference:  Rscript make_refs_quantile.R   (writes r_refs_quantile.json)
# Tests never run R: they read the JSON this script wrote.
suppressMessages(library(survey))
suppressMessages(library(jsonlite))
options(survey.lonely.psu = "fail")

apistrat <- read.csv("data/apistrat.csv")
apiclus1 <- read.csv("data/apiclus1.csv")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
# replicate designs whose replicates are deterministic (jackknife: no random draws)
designs <- list(dstrat = dstrat, dclus1 = dclus1,
                jk1_clus1 = as.svrepdesign(dclus1, type = "JK1"),
                jkn_strat = as.svrepdesign(dstrat, type = "JKn"))
# a bootstrap design: its replicate weights are random, so they are stored in the JSON
set.seed(20261202)
designs$bs_strat <- as.svrepdesign(dstrat, type = "bootstrap", replicates = 50)
variable <- c(dstrat = "api00", dclus1 = "enroll", jk1_clus1 = "enroll", jkn_strat = "api00", bs_strat = "api00")
stored <- list(bs_strat = list(r_call = 'set.seed(20261202); as.svrepdesign(dstrat, type = "bootstrap", replicates = 50)',
                               # as text with 17 digits: the JSON's 15 would move ties of the cumulated weights
                               analysis_weights = matrix(sprintf("%.17g", weights(designs$bs_strat, "analysis")),
                                                         nrow = nrow(apistrat)),
                               scale_text = sprintf("%.17g", designs$bs_strat$scale),
                               scale = designs$bs_strat$scale, rscales = designs$bs_strat$rscales,
                               mse = designs$bs_strat$mse, degf = degf(designs$bs_strat)))
rules <- c("math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9")

# survey 4.1.1's svyquantile.svyrep.design calls woodruffCI without method = interval.type, so
# "beta", "xlogit" and "asin" silently give the "mean" interval on replicate designs; survey 4.5
# (R/newsvyquantile.R) passes it.  Replicate-design references use the 4.1.1 function with 4.5's line.
svyquantile_rep <- survey:::svyquantile.svyrep.design
src <- deparse(body(svyquantile_rep))
if (!any(grepl("woodruffCI(..., method = interval.type)", src, fixed = TRUE))) {
  src <- sub("ci_fun <- woodruffCI", "ci_fun <- function(...) woodruffCI(..., method = interval.type)", src,
             fixed = TRUE)
  body(svyquantile_rep) <- parse(text = paste(src, collapse = "\n"))[[1]]
}
quantile_fun <- function(d) if (inherits(d, "svyrep.design")) svyquantile_rep else svyquantile

refs <- list()
add <- function(id, call, value) {
  refs[[id]] <<- c(list(r_call = call), value)
}

q_case <- function(id, dname, y, q, type, rule, na_rm = FALSE, domain = NULL, df = NULL) {
  dtext <- if (is.null(domain)) dname else sprintf('subset(%s, %s == "%s")', dname, domain[1], domain[2])
  dfarg <- if (is.null(df)) "" else sprintf(", df = %s", df)
  call <- sprintf('svyquantile(~%s, %s, %s, ci = TRUE, interval.type = "%s", qrule = "%s"%s%s)',
                  y, dtext, q, type, rule, if (na_rm) ", na.rm = TRUE" else "", dfarg)
  d <- designs[[dname]]
  if (!is.null(domain)) d <- d[d$variables[[domain[1]]] == domain[2], ]
  r <- suppressWarnings(suppressMessages(
    quantile_fun(d)(as.formula(paste0("~", y)), d, q, ci = TRUE, interval.type = type, qrule = rule,
                na.rm = na_rm, df = if (is.null(df)) NULL else eval(parse(text = df)))))
  m <- r[[1]]
  used <- if (na_rm) d[!is.na(d$variables[[y]]), ] else d
  add(id, call, list(design = dname, variable = y, q = q, interval_type = type, qrule = rule, na_rm = na_rm,
                     domain = domain, df_arg = df, df = if (is.null(df)) degf(used) else eval(parse(text = df)),
                     estimate = unname(m[1, 1]), ci_lower = unname(m[1, 2]), ci_upper = unname(m[1, 3]),
                     se = unname(m[1, 4])))
}

# --- every interval type x qrule x q on each design (score: Taylor only; quantile: replicate only)
for (dname in names(designs)) {
  rep <- inherits(designs[[dname]], "svyrep.design")
  types <- c("mean", "beta", "xlogit", "asin", if (rep) "quantile" else "score")
  for (type in types) for (rule in rules) for (q in c(0.25, 0.5, 0.9)) {
    q_case(sprintf("q_%s_%s_%s_%s", dname, type, rule, q), dname, variable[[dname]], q, type, rule)
  }
}

# --- na.rm = TRUE: R works on design[!is.na(y), ] and uses its degf
for (dname in names(designs)) {
  rep <- inherits(designs[[dname]], "svyrep.design")
  for (type in c("mean", "beta", if (rep) "quantile" else "score")) for (q in c(0.25, 0.5)) {
    q_case(sprintf("qna_%s_%s_%s", dname, type, q), dname, "acs.46", q, type, "math", na_rm = TRUE)
  }
}
q_case("qna_dclus1_xlogit_0.5_avged_hf7", "dclus1", "avg.ed", 0.5, "xlogit", "hf7", na_rm = TRUE)
q_case("qna_dclus1_score_0.5_dfinf", "dclus1", "avg.ed", 0.5, "score", "math", na_rm = TRUE, df = "Inf")

# --- domains: svyquantile on subset(design, stype == level), i.e. svyby(..., svyquantile)
for (dname in names(designs)) {
  rep <- inherits(designs[[dname]], "svyrep.design")
  for (lv in c("E", "H", "M")) for (type in c("mean", "beta", "asin", if (rep) "quantile" else "score")) {
    for (q in c(0.25, 0.5)) {
      q_case(sprintf("qdom_%s_%s_%s_%s", dname, lv, type, q), dname, variable[[dname]], q, type, "math",
             domain = c("stype", lv))
    }
  }
}
# a domain with missing values, and level 0.9
q_case("qdomna_dstrat_E_score_0.5", "dstrat", "acs.46", 0.5, "score", "math", na_rm = TRUE, domain = c("stype", "E"))
q_case("qdomna_jk1_clus1_E_quantile_0.5", "jk1_clus1", "acs.46", 0.5, "quantile", "hf8", na_rm = TRUE,
       domain = c("stype", "E"))

# --- raking on apistrat (weights vary within sch.wide) and apiclus1, and its replicate version
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
rake_case <- function(id, dname, control) {
  ctext <- if (is.null(control)) "" else sprintf(", control = %s", control)
  call <- sprintf("rake(%s, list(~stype, ~sch.wide), list(pop.types, pop.schwide)%s)", dname, ctext)
  d <- designs[[dname]]
  warned <- FALSE
  r <- withCallingHandlers(
    if (is.null(control)) rake(d, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
    else rake(d, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control = eval(parse(text = control))),
    warning = function(w) { warned <<- TRUE; invokeRestart("muffleWarning") })
  stats <- rake_stats(r)
  add(id, call, c(list(design = dname, control = control, warned = warned), stats))
}
rake_stats <- function(r) {
  m <- svymean(~api00, r)
  t <- svytotal(~enroll, r)
  m99 <- svymean(~api99, r)
  list(weights = unname(weights(r, "sampling")),
       mean_api00 = unname(coef(m)), mean_api00_se = unname(SE(m)),
       total_enroll = unname(coef(t)), total_enroll_se = unname(SE(t)),
       mean_api99 = unname(coef(m99)), mean_api99_se = unname(SE(m99)))
}
for (dname in c("dstrat", "dclus1", "jk1_clus1")) {
  rake_case(paste0("rake_default_", dname), dname, NULL)
  rake_case(paste0("rake_tight_", dname), dname, "list(maxit = 100, epsilon = 1e-10)")
  rake_case(paste0("rake_maxit2_", dname), dname, "list(maxit = 2, epsilon = 1e-12)")
  rake_case(paste0("rake_eps5_", dname), dname, "list(epsilon = 5)")
  call <- sprintf('calibrate(%s, ~stype + sch.wide, population = c(6194, 755, 1018, 5122), calfun = "raking", epsilon = 1e-13, maxit = 100)', dname)
  r <- calibrate(designs[[dname]], ~stype + sch.wide, population = c(6194, 755, 1018, 5122), calfun = "raking",
                 epsilon = 1e-13, maxit = 100)
  add(paste0("calraking_", dname), call, c(list(design = dname), rake_stats(r)))
}

# raking a post-stratified design: R keeps the earlier post-stratification before the raking step
designs$ps_awards_strat <- postStratify(dstrat, ~awards, data.frame(awards = c("No", "Yes"), Freq = c(2500, 3694)))
rake_case("rake_default_ps_awards_strat", "ps_awards_strat", NULL)
rake_case("rake_tight_ps_awards_strat", "ps_awards_strat", "list(maxit = 100, epsilon = 1e-10)")

out <- list(generator = "tests/reference/make_refs_quantile.R", r_version = R.version.string,
            survey_version = as.character(packageVersion("survey")), replicate_designs = stored, refs = refs)
write_json(out, "r_refs_quantile.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote r_refs_quantile.json with", length(refs), "references\n")
