/* test-marking.c — classification markings: single lines, portion marks and
 * whole documents (banner positions, corroboration, metadata, negatives). */
#include <string.h>

#include "harness.h"
#include "marking.h"
#include "mem.h"
#include "text.h"

/* ---- single lines ------------------------------------------------------ */

static const struct {
	const char *name, *line;
	enum marking_strength strength;
	const char *scheme, *level;
} lines[] = {
	{"nato secret", "NATO SECRET", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"cosmic", "COSMIC TOP SECRET", MARKING_STRENGTH_STRONG, "NATO", "TOP SECRET"},
	{"cosmic atomal", "COSMIC TOP SECRET ATOMAL", MARKING_STRENGTH_STRONG, "NATO", "TOP SECRET"},
	{"cosmic bohemia", "COSMIC TOP SECRET - BOHEMIA", MARKING_STRENGTH_STRONG, "NATO", "TOP SECRET"},
	{"nato secret atomal", "NATO SECRET ATOMAL", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"secret atomal", "SECRET ATOMAL", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"nato conf atomal", "NATO CONFIDENTIAL ATOMAL", MARKING_STRENGTH_STRONG, "NATO", "CONFIDENTIAL"},
	{"nato restricted", "NATO RESTRICTED", MARKING_STRENGTH_STRONG, "NATO", "RESTRICTED"},
	{"nato unclassified", "NATO UNCLASSIFIED", MARKING_STRENGTH_STRONG, "NATO", "UNCLASSIFIED"},
	{"eapc pfp", "NATO/EAPC/PfP UNCLASSIFIED", MARKING_STRENGTH_STRONG, "NATO", "UNCLASSIFIED"},
	{"stars", "*** NATO SECRET ***", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"dashes", "--- NATO CONFIDENTIAL ---", MARKING_STRENGTH_STRONG, "NATO", "CONFIDENTIAL"},
	{"md bold", "**COSMIC TOP SECRET**", MARKING_STRENGTH_STRONG, "NATO", "TOP SECRET"},
	{"brackets + caveat", "[ NATO RESTRICTED - RELEASABLE TO EU ]", MARKING_STRENGTH_STRONG, "NATO", "RESTRICTED"},
	{"caveat prt", "NATO SECRET - RELEASABLE TO PRT", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"caveat public", "NATO UNCLASSIFIED - RELEASABLE TO THE PUBLIC", MARKING_STRENGTH_STRONG, "NATO", "UNCLASSIFIED"},
	{"page glued", "NATO UNCLASSIFIED1-1", MARKING_STRENGTH_STRONG, "NATO", "UNCLASSIFIED"},
	{"annex ref", "NATO UNCLASSIFIED ANNEX 1 AC/35-D/2002-REV2", MARKING_STRENGTH_STRONG, "NATO", "UNCLASSIFIED"},
	{"bilingual", "NATO RESTRICTED / OTAN DIFFUSION RESTREINTE", MARKING_STRENGTH_STRONG, "NATO", "RESTRICTED"},
	{"otan", "OTAN DIFFUSION RESTREINTE", MARKING_STRENGTH_STRONG, "NATO", "RESTRICTED"},
	{"letter spaced", "N A T O   S E C R E T", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"extra spaces", "  NATO    SECRET  ", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"nbsp", "NATO\xc2\xa0SECRET", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"en dash deco", "\xe2\x80\x93 NATO SECRET \xe2\x80\x93", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"csv padded", "NATO RESTRICTED,,,,", MARKING_STRENGTH_STRONG, "NATO", "RESTRICTED"},
	{"csv quoted", "\"SECRET//REL TO USA, PRT, NATO\"", MARKING_STRENGTH_STRONG, "US", "SECRET"},
	{"label prefix", "CLASSIFICATION: NATO SECRET", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"eu full", "TRES SECRET UE/EU TOP SECRET", MARKING_STRENGTH_STRONG, "EU", "TOP SECRET"},
	{"eu accent", "TR\xc3\x88S SECRET UE/EU TOP SECRET", MARKING_STRENGTH_STRONG, "EU", "TOP SECRET"},
	{"eu spaced slash", "SECRET UE / EU SECRET", MARKING_STRENGTH_STRONG, "EU", "SECRET"},
	{"eu conf", "CONFIDENTIEL UE/EU CONFIDENTIAL", MARKING_STRENGTH_STRONG, "EU", "CONFIDENTIAL"},
	{"eu restreint short", "RESTREINT UE", MARKING_STRENGTH_STRONG, "EU", "RESTRICTED"},
	{"eu english short", "EU RESTRICTED", MARKING_STRENGTH_STRONG, "EU", "RESTRICTED"},
	{"eu caveat nato", "SECRET UE/EU SECRET - RELEASABLE TO NATO", MARKING_STRENGTH_STRONG, "EU", "SECRET"},
	{"us controls", "TOP SECRET//SI//NOFORN", MARKING_STRENGTH_STRONG, "US", "TOP SECRET"},
	{"us spaced controls", "SECRET // NOFORN", MARKING_STRENGTH_STRONG, "US", "SECRET"},
	{"us rel to", "SECRET//REL TO USA, FVEY", MARKING_STRENGTH_STRONG, "US", "SECRET"},
	{"us conf noforn", "CONFIDENTIAL//NOFORN", MARKING_STRENGTH_STRONG, "US", "CONFIDENTIAL"},
	{"us bare", "SECRET", MARKING_STRENGTH_WEAK, "US", "SECRET"},
	{"us bare ts", "TOP SECRET", MARKING_STRENGTH_WEAK, "US", "TOP SECRET"},
	{"us bare decorated", "== CONFIDENTIAL ==", MARKING_STRENGTH_WEAK, "US", "CONFIDENTIAL"},
	{"pt muito", "MUITO SECRETO", MARKING_STRENGTH_PT, "PT", "TOP SECRET"},
	{"pt secreto", "*** SECRETO ***", MARKING_STRENGTH_PT, "PT", "SECRET"},
	{"pt confidencial", "--- CONFIDENCIAL ---", MARKING_STRENGTH_PT, "PT", "CONFIDENTIAL"},
	{"pt reservado", "RESERVADO", MARKING_STRENGTH_PT, "PT", "RESTRICTED"},
	/* negatives */
	{"lower case", "nato secret", MARKING_STRENGTH_NONE, "", ""},
	{"title case", "Nato Secret", MARKING_STRENGTH_NONE, "", ""},
	{"prose after", "NATO SECRET documents were sold online", MARKING_STRENGTH_NONE, "", ""},
	{"caps headline", "NATO SECRET FILES LEAKED ONLINE", MARKING_STRENGTH_NONE, "", ""},
	{"prose before", "Documents classified NATO SECRET were offered", MARKING_STRENGTH_NONE, "", ""},
	{"disclaimer", "CONFIDENTIAL: This e-mail and any attachments are confidential.", MARKING_STRENGTH_NONE, "", ""},
	{"pt disclaimer", "CONFIDENCIAL: Esta mensagem e quaisquer anexos", MARKING_STRENGTH_NONE, "", ""},
	{"privileged", "PRIVILEGED AND CONFIDENTIAL", MARKING_STRENGTH_NONE, "", ""},
	{"company conf", "Company Confidential", MARKING_STRENGTH_NONE, "", ""},
	{"company conf caps", "COMPANY CONFIDENTIAL", MARKING_STRENGTH_NONE, "", ""},
	{"secretary", "SECRETARY OF STATE", MARKING_STRENGTH_NONE, "", ""},
	{"secretariat", "SECRETARIAT", MARKING_STRENGTH_NONE, "", ""},
	{"victoria", "Victoria's Secret", MARKING_STRENGTH_NONE, "", ""},
	{"top secret recipe", "TOP SECRET RECIPE", MARKING_STRENGTH_NONE, "", ""},
	{"quoted constant", "#define US_SECRET_NF   \"SECRET//NOFORN\"", MARKING_STRENGTH_NONE, "", ""},
	{"source list", "\"NATO SECRET\", \"COSMIC TOP SECRET\", NULL", MARKING_STRENGTH_NONE, "", ""},
	{"explain table row", "NATO SECRET | second highest level | serious damage", MARKING_STRENGTH_NONE, "", ""},
	{"reservados", "Todos os direitos reservados.", MARKING_STRENGTH_NONE, "", ""},
	{"reservado para", "RESERVADO PARA USO FUTURO", MARKING_STRENGTH_NONE, "", ""},
	{"empty", "", MARKING_STRENGTH_NONE, "", ""},
	{"only deco", "*****", MARKING_STRENGTH_NONE, "", ""},
	{"declassified word", "UNCLASSIFIED", MARKING_STRENGTH_NONE, "", ""},
};

static void
test_lines(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(lines); i++) {
		struct marking_line ml;
		enum marking_strength st = marking_parse_line(
			lines[i].line, strlen(lines[i].line), MARKING_MODE_LINE, &ml);
		th_inteq(st, lines[i].strength, "line %s: strength", lines[i].name);
		if (st != MARKING_STRENGTH_NONE) {
			th_streq(marking_scheme_name(ml.scheme), lines[i].scheme,
				 "line %s: scheme", lines[i].name);
			th_streq(marking_level_name(ml.level), lines[i].level,
				 "line %s: level", lines[i].name);
		}
	}
}

static const struct {
	const char *name, *line;
	enum marking_strength strength;
	const char *scheme, *level;
} portions[] = {
	{"ns", "(NS) The brigade will move at H-hour.", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"numbered nc", "2.3 (NC) Annex B lists the units.", MARKING_STRENGTH_STRONG, "NATO", "CONFIDENTIAL"},
	{"numbered dot nr", "1. (NR) Logistic support continues.", MARKING_STRENGTH_STRONG, "NATO", "RESTRICTED"},
	{"nato 1.(U) style", "1.(NU) General.", MARKING_STRENGTH_STRONG, "NATO", "UNCLASSIFIED"},
	{"cts", "(CTS) Strategic warning.", MARKING_STRENGTH_STRONG, "NATO", "TOP SECRET"},
	{"capco nato", "(//NS) Partner contribution.", MARKING_STRENGTH_STRONG, "NATO", "SECRET"},
	{"eu portion", "(R-UE/EU-R) The mission budget.", MARKING_STRENGTH_STRONG, "EU", "RESTRICTED"},
	{"us control", "(S//NF) The source reported.", MARKING_STRENGTH_STRONG, "US", "SECRET"},
	{"us ts si", "(TS//SI) Intercepts show.", MARKING_STRENGTH_STRONG, "US", "TOP SECRET"},
	{"us rel", "(C//REL TO USA, FVEY) The plan.", MARKING_STRENGTH_STRONG, "US", "CONFIDENTIAL"},
	{"us bare s", "(S) The independent audit suggests.", MARKING_STRENGTH_WEAK, "US", "SECRET"},
	{"us bare u", "(U) Background.", MARKING_STRENGTH_WEAK, "US", "UNCLASSIFIED"},
	/* negatives */
	{"mid sentence", "Portion marks such as (NS) or (NC) go first.", MARKING_STRENGTH_NONE, "", ""},
	{"lower after", "(NS) or (NC) go at the start", MARKING_STRENGTH_NONE, "", ""},
	{"copyright", "(C) 2024 Clube de Montanha. All rights reserved.", MARKING_STRENGTH_NONE, "", ""},
	{"size small", "(S) small - chest 86 to 91 cm", MARKING_STRENGTH_NONE, "", ""},
	{"list a", "(a) sleeping bag", MARKING_STRENGTH_NONE, "", ""},
	{"list i", "(i) first item", MARKING_STRENGTH_NONE, "", ""},
	{"no space", "(NS)The brigade", MARKING_STRENGTH_NONE, "", ""},
	{"registered", "(R) Registered trade mark", MARKING_STRENGTH_NONE, "", ""},
	{"plural", "file(s) (S) to continue", MARKING_STRENGTH_NONE, "", ""},
};

static void
test_portions(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(portions); i++) {
		struct marking_line ml;
		enum marking_strength st = marking_parse_portion(
			portions[i].line, strlen(portions[i].line), &ml);
		th_inteq(st, portions[i].strength, "portion %s: strength",
			 portions[i].name);
		if (st != MARKING_STRENGTH_NONE) {
			th_streq(marking_scheme_name(ml.scheme), portions[i].scheme,
				 "portion %s: scheme", portions[i].name);
			th_streq(marking_level_name(ml.level), portions[i].level,
				 "portion %s: level", portions[i].name);
		}
	}
}

/* ---- documents --------------------------------------------------------- */

/* A segment spec: kind, name, text. Kind -1 ends the list. */
struct seg {
	int kind;
	const char *name, *text;
};

#define EN_PROSE                                                               \
	"The committee reviewed the logistics plan for the exercise and "    \
	"agreed the timeline.\n\nThe budget for the next cycle is on track "  \
	"and the report will be sent to the nations.\n"
#define PT_PROSE                                                               \
	"O comando analisou o plano de apoio logístico para o exercício e "  \
	"aprovou o calendário.\n\nO orçamento do próximo ciclo está dentro " \
	"do previsto e o relatório será enviado às nações.\n"

static const struct {
	const char *name;
	struct seg segs[6];
	const char *scheme, *level; /* "" for none */
} docs[] = {
	{"banner top and bottom",
	 {{TEXT_KIND_BODY, NULL, "NATO SECRET\n\n" EN_PROSE "\nNATO SECRET\n"}, {-1, NULL, NULL}},
	 "NATO", "SECRET"},
	{"banner bottom only",
	 {{TEXT_KIND_BODY, NULL, EN_PROSE "\n--- NATO CONFIDENTIAL ---\n"}, {-1, NULL, NULL}},
	 "NATO", "CONFIDENTIAL"},
	{"crlf",
	 {{TEXT_KIND_BODY, NULL, "NATO SECRET\r\n\r\nText here.\r\n\r\nNATO SECRET\r\n"}, {-1, NULL, NULL}},
	 "NATO", "SECRET"},
	{"page number after banner",
	 {{TEXT_KIND_BODY, NULL, "NATO RESTRICTED\n\n" EN_PROSE "\nNATO RESTRICTED\n\nPage 1 of 2\n"}, {-1, NULL, NULL}},
	 "NATO", "RESTRICTED"},
	{"boxed banner",
	 {{TEXT_KIND_BODY, NULL, "****************\n* NATO SECRET *\n****************\n" EN_PROSE}, {-1, NULL, NULL}},
	 "NATO", "SECRET"},
	{"form feed pages, highest wins",
	 {{TEXT_KIND_BODY, NULL, "NATO UNCLASSIFIED\n" EN_PROSE "NATO UNCLASSIFIED\n\fNATO CONFIDENTIAL\n" EN_PROSE "NATO CONFIDENTIAL\n"}, {-1, NULL, NULL}},
	 "NATO", "CONFIDENTIAL"},
	{"pages as segments, highest wins",
	 {{TEXT_KIND_BODY, NULL, "NATO UNCLASSIFIED\n" EN_PROSE},
	  {TEXT_KIND_BODY, NULL, "NATO RESTRICTED\n" EN_PROSE},
	  {TEXT_KIND_BODY, NULL, "NATO UNCLASSIFIED\n" EN_PROSE}, {-1, NULL, NULL}},
	 "NATO", "RESTRICTED"},
	{"nato portions only",
	 {{TEXT_KIND_BODY, NULL, "Input to the review\n\nResources\n\n(NC) The supply chain improves.\n\n(NR) The board suggested a review.\n"}, {-1, NULL, NULL}},
	 "NATO", "CONFIDENTIAL"},
	{"portion raises banner",
	 {{TEXT_KIND_HEADER, NULL, "NATO RESTRICTED"}, {TEXT_KIND_FOOTER, NULL, "NATO RESTRICTED"},
	  {TEXT_KIND_BODY, NULL, "Title\n(NR) First point.\n(NC) Second point.\n"}, {-1, NULL, NULL}},
	 "NATO", "CONFIDENTIAL"},
	{"docx paragraphs after heading",
	 {{TEXT_KIND_BODY, NULL, "Note for the Chief of Staff\nActions required\n(NS) The CIS Division may need to rehearse.\n"}, {-1, NULL, NULL}},
	 "NATO", "SECRET"},
	{"eu banners",
	 {{TEXT_KIND_BODY, NULL, "RESTREINT UE/EU RESTRICTED\n" EN_PROSE "RESTREINT UE/EU RESTRICTED\n"}, {-1, NULL, NULL}},
	 "EU", "RESTRICTED"},
	{"us controls banner",
	 {{TEXT_KIND_BODY, NULL, "SECRET//NOFORN\n" EN_PROSE}, {-1, NULL, NULL}},
	 "US", "SECRET"},
	{"us bare pair",
	 {{TEXT_KIND_BODY, NULL, "TOP SECRET\n" EN_PROSE "TOP SECRET\n"}, {-1, NULL, NULL}},
	 "US", "TOP SECRET"},
	{"us bare + cab",
	 {{TEXT_KIND_BODY, NULL, "SECRET\n" EN_PROSE "\nClassified By: K. Anderson, Chief\nDerived From: SCG 20230115\nDeclassify On: 20431017\n"}, {-1, NULL, NULL}},
	 "US", "SECRET"},
	{"us bare + portions",
	 {{TEXT_KIND_BODY, NULL, "TOP SECRET\nNote\n(TS) The division may need.\n(C) Exchanges with the group.\n(S) The audit suggests.\n"}, {-1, NULL, NULL}},
	 "US", "TOP SECRET"},
	{"us header + footer pair",
	 {{TEXT_KIND_HEADER, NULL, "CONFIDENTIAL"}, {TEXT_KIND_FOOTER, NULL, "CONFIDENTIAL"},
	  {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "US", "CONFIDENTIAL"},
	{"us strong portions only",
	 {{TEXT_KIND_BODY, NULL, "Hi all,\n\nCopying below:\n\n(C//NF) To recover from a compromise.\n\n(S//NF) This report summarises.\n\nThanks\n"}, {-1, NULL, NULL}},
	 "US", "SECRET"},
	{"us caveat names nato",
	 {{TEXT_KIND_BODY, NULL, "SECRET//REL TO USA, PRT, NATO\n" EN_PROSE "SECRET//REL TO USA, PRT, NATO\n"}, {-1, NULL, NULL}},
	 "US", "SECRET"},
	{"pt banners in pt prose",
	 {{TEXT_KIND_BODY, NULL, "RESERVADO\n\n" PT_PROSE "\nRESERVADO\n"}, {-1, NULL, NULL}},
	 "PT", "RESTRICTED"},
	{"pt muito secreto",
	 {{TEXT_KIND_BODY, NULL, "MUITO SECRETO\n\n" PT_PROSE "\nMUITO SECRETO\n"}, {-1, NULL, NULL}},
	 "PT", "TOP SECRET"},
	{"pt header only",
	 {{TEXT_KIND_HEADER, NULL, "CONFIDENCIAL"}, {TEXT_KIND_BODY, NULL, PT_PROSE}, {-1, NULL, NULL}},
	 "PT", "CONFIDENTIAL"},
	{"pt property",
	 {{TEXT_KIND_PROPERTY, "Classification", "SECRETO"}, {TEXT_KIND_BODY, NULL, PT_PROSE}, {-1, NULL, NULL}},
	 "PT", "SECRET"},
	{"nato header only",
	 {{TEXT_KIND_HEADER, NULL, "COSMIC TOP SECRET"}, {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "NATO", "TOP SECRET"},
	{"header with tab fields",
	 {{TEXT_KIND_HEADER, NULL, "Ref. 2024/118\tNATO SECRET\tPage 1"}, {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "NATO", "SECRET"},
	{"xlsx header codes",
	 {{TEXT_KIND_HEADER, NULL, "&CNATO CONFIDENTIAL&RPage &P"}, {TEXT_KIND_BODY, NULL, "Unit\tStrength\nA\t12\n"}, {-1, NULL, NULL}},
	 "NATO", "CONFIDENTIAL"},
	{"classification property",
	 {{TEXT_KIND_PROPERTY, "Classification", "NATO SECRET"}, {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "NATO", "SECRET"},
	{"msip label enabled",
	 {{TEXT_KIND_PROPERTY, "MSIP_Label_bc15a739-e0df-54d8-f827-ccf67cc6b6be_Enabled", "true"},
	  {TEXT_KIND_PROPERTY, "MSIP_Label_bc15a739-e0df-54d8-f827-ccf67cc6b6be_Name", "NATO CONFIDENTIAL"},
	  {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "NATO", "CONFIDENTIAL"},
	{"msip label mixed case name",
	 {{TEXT_KIND_PROPERTY, "pdfx:MSIP_Label_0a1b_Enabled", "True"},
	  {TEXT_KIND_PROPERTY, "pdfx:MSIP_Label_0a1b_Name", "Nato Restricted"}, {-1, NULL, NULL}},
	 "NATO", "RESTRICTED"},
	{"msip_labels mail header",
	 {{TEXT_KIND_MAIL_HEADER, "msip_labels", "MSIP_Label_77_Enabled=True; MSIP_Label_77_SiteId=abc; MSIP_Label_77_Name=EU RESTRICTED;"},
	  {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "EU", "RESTRICTED"},
	{"label beats body banner",
	 {{TEXT_KIND_PROPERTY, "MSIP_Label_1_Enabled", "true"}, {TEXT_KIND_PROPERTY, "MSIP_Label_1_Name", "NATO RESTRICTED"},
	  {TEXT_KIND_BODY, NULL, "NATO SECRET\n" EN_PROSE "NATO SECRET\n"}, {-1, NULL, NULL}},
	 "NATO", "SECRET"},
	{"utf16 body via add_bytes", {{-2, NULL, NULL}, {-1, NULL, NULL}}, "NATO", "SECRET"},
	/* negatives */
	{"news prose",
	 {{TEXT_KIND_BODY, NULL, "Classified NATO files stolen\n\nBy Emma Walker\n\nA source said several of the documents were marked NATO SECRET and NATO CONFIDENTIAL.\n\"Documents marked COSMIC TOP SECRET should never travel,\" he said.\n\nCopyright 2024 Atlantic Wire. All rights reserved.\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"wrapped explainer",
	 {{TEXT_KIND_BODY, NULL, "Explainer\n\nThe alliance uses four levels for classified\ninformation: COSMIC TOP SECRET, NATO SECRET, NATO CONFIDENTIAL and NATO\nRESTRICTED, with NATO UNCLASSIFIED used for the rest. The Union uses\nRESTREINT UE/EU RESTRICTED to TRES\nSECRET UE/EU TOP SECRET.\n\nCopyright 2024.\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"marking alone mid text",
	 {{TEXT_KIND_BODY, NULL, "How to mark a document\n\nPut the classification on its own line, for example:\n\nNATO CONFIDENTIAL\n\nThe example line above does not make this note classified.\nThis note is public.\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"training table mid page",
	 {{TEXT_KIND_BODY, NULL, "Security levels explained\n\nLevel\tMeaning\nCOSMIC TOP SECRET\texceptionally grave damage\nNATO SECRET\tserious damage\nNATO RESTRICTED\tdisadvantageous\n\nAsk the registry.\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"bare secret top only",
	 {{TEXT_KIND_BODY, NULL, "SECRET\n\nYou are invited to a surprise party for Ana on Friday.\nDo not tell her!\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"bare conf last line only",
	 {{TEXT_KIND_BODY, NULL, "Product launch checklist\n\n- finalise packaging\n\nUntil the announcement the launch date stays\nCONFIDENTIAL\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"bare conf header only",
	 {{TEXT_KIND_HEADER, NULL, "CONFIDENTIAL"}, {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "", ""},
	{"disclaimers",
	 {{TEXT_KIND_BODY, NULL, "PRIVILEGED AND CONFIDENTIAL\n\nHello,\n\nPlease find the invoice attached.\n\nCONFIDENTIAL: This e-mail and any attachments may contain confidential information.\nCompany Confidential\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"size labels and copyright with bare banner",
	 {{TEXT_KIND_BODY, NULL, "SECRET\n\nT-shirt sizes:\n\n(S) Small - chest 86\n(M) Medium - chest 96\n(L) Large - chest 106\n\n(C) 2024 Club. All rights reserved.\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"pt marking in english prose",
	 {{TEXT_KIND_BODY, NULL, "RESERVADO\n\n" EN_PROSE "\nRESERVADO\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"spanish reservado",
	 {{TEXT_KIND_BODY, NULL, "RESERVADO\n\nEl comité revisó el plan de los ejercicios y la fecha del informe. Los países y las unidades recibieron el documento por correo y con la firma del jefe.\n\nRESERVADO\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"label not enabled",
	 {{TEXT_KIND_PROPERTY, "MSIP_Label_9_Enabled", "false"}, {TEXT_KIND_PROPERTY, "MSIP_Label_9_Name", "NATO RESTRICTED"}, {-1, NULL, NULL}},
	 "", ""},
	{"label without enabled",
	 {{TEXT_KIND_PROPERTY, "MSIP_Label_9_Name", "NATO RESTRICTED"}, {-1, NULL, NULL}},
	 "", ""},
	{"label general",
	 {{TEXT_KIND_PROPERTY, "MSIP_Label_9_Enabled", "true"}, {TEXT_KIND_PROPERTY, "MSIP_Label_9_Name", "Confidential"}, {-1, NULL, NULL}},
	 "", ""},
	{"classification internal",
	 {{TEXT_KIND_PROPERTY, "Classification", "Internal"}, {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "", ""},
	{"title property is not a label",
	 {{TEXT_KIND_PROPERTY, "title", "NATO SECRET"}, {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "", ""},
	{"company confidential footer",
	 {{TEXT_KIND_FOOTER, NULL, "Company Confidential - Internal Use Only"}, {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "", ""},
	{"source code",
	 {{TEXT_KIND_BODY, NULL, "/* classification.h */\nstatic const char *m[] = {\n    \"NATO SECRET\", \"COSMIC TOP SECRET\", NULL\n};\n#define US \"SECRET//NOFORN\"\n#endif\n"}, {-1, NULL, NULL}},
	 "", ""},
	{"portion in aux only counts, banner in aux does not",
	 {{TEXT_KIND_AUX, NULL, "NATO SECRET\n"}, {TEXT_KIND_BODY, NULL, EN_PROSE}, {-1, NULL, NULL}},
	 "", ""},
};

static struct text_doc *
build(size_t row)
{
	struct text_doc *doc = text_doc_new(0);
	for (size_t k = 0; docs[row].segs[k].kind != -1; k++) {
		const struct seg *s = &docs[row].segs[k];
		if (s->kind == -2) {
			/* UTF-16LE with BOM: NATO SECRET banners. */
			static const char ascii[] = "NATO SECRET\r\n\r\nSummary of the "
						    "meeting.\r\n\r\nNATO SECRET\r\n";
			unsigned char buf[2 + 2 * sizeof(ascii)];
			size_t n = 0;
			buf[n++] = 0xFF;
			buf[n++] = 0xFE;
			for (size_t q = 0; q + 1 < sizeof(ascii); q++) {
				buf[n++] = (unsigned char)ascii[q];
				buf[n++] = 0;
			}
			text_doc_add_bytes(doc, TEXT_KIND_BODY, NULL, buf, n, NULL);
			continue;
		}
		text_doc_add(doc, (enum text_kind)s->kind, s->name, s->text,
			     strlen(s->text));
	}
	return doc;
}

static void
test_docs(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(docs); i++) {
		struct text_doc *doc = build(i);
		struct marking_result r;
		int got = marking_detect(doc, &r);
		th_inteq(got, docs[i].scheme[0] ? 1 : 0, "doc %s: found",
			 docs[i].name);
		th_streq(marking_scheme_name(r.scheme), docs[i].scheme,
			 "doc %s: scheme", docs[i].name);
		th_streq(marking_level_name(r.level), docs[i].level,
			 "doc %s: level", docs[i].name);
		text_doc_free(doc);
	}
}

static void
test_found_string(void)
{
	struct text_doc *doc = text_doc_new(0);
	const char *t = "*** TR\xc3\x88S SECRET UE/EU TOP SECRET ***\n\nBody.\n";
	text_doc_add(doc, TEXT_KIND_BODY, NULL, t, strlen(t));
	struct marking_result r;
	marking_detect(doc, &r);
	th_streq(r.found, "TR\xc3\x88S SECRET UE/EU TOP SECRET",
		 "found: marking as found, accents kept, decoration stripped");
	th_streq(marking_source_name(r.source), "banner", "found: source banner");
	text_doc_free(doc);
}

int
main(void)
{
	test_lines();
	test_portions();
	test_docs();
	test_found_string();
	return th_done();
}
