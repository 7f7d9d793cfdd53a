// The hints of Adobe's modules table are quoted verbatim by the probes, relative Markdown links
// included (`[Log precision](../../production/using/log-precision.md)`): relative to Adobe's docs
// repository, they lead nowhere where the agent shows them. This maps each of them to the page Adobe
// publishes on experienceleague.adobe.com, and rewrites a hint's links for display.
//
// Pure data and one function; nothing imported.

/**
 * Relative targets of the table's links (AdobeDocs/campaign-classic.en, help/production/using/
 * modules-and-frequent-issues.md) → the published page. Only pages confirmed from a stored copy of
 * the page or from the docs repository's own metadata are listed:
 * - the path of a published page is the chain of section ids of `help/TOC.md` ("Monitoring guide
 *   {#monitoring-campaign-classic}" > "Troubleshooting {#troubleshooting-toc}" > "Working with logs
 *   {#working-with-log-toc}" > log-precision) under `/en/docs/campaign-classic/using/`;
 * - log-precision: stored page https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/troubleshooting-toc/working-with-log-toc/log-precision;
 * - tracking-logs-issues: stored page https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/troubleshooting-toc/working-with-log-toc/tracking-logs-issues;
 * - general-architecture: stored pages at the same path in Swedish
 *   (https://experienceleague.adobe.com/sv/docs/campaign-classic/using/monitoring-campaign-classic/introduction/general-architecture)
 *   and in the older `.html` form (…/docs/campaign-classic/using/monitoring-campaign-classic/introduction/general-architecture.html),
 *   and TOC "Monitoring guide" > "Introduction {#introduction}"; its anchor `list-of-open-ports` is the
 *   heading id in help/production/using/general-architecture.md (`## List of open ports {#list-of-open-ports}`)
 *   and shows in the stored pages.
 * A target missing here keeps its link text and loses the dead link.
 */
export const HINT_LINK_TARGETS: Readonly<Record<string, string>> = {
  '../../production/using/general-architecture.md':
    'https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/introduction/general-architecture',
  '../../production/using/tracking-logs-issues.md':
    'https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/troubleshooting-toc/working-with-log-toc/tracking-logs-issues',
  '../../production/using/log-precision.md':
    'https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/troubleshooting-toc/working-with-log-toc/log-precision',
};

/** `[text](target)`: Markdown inline links as the table's hints write them (no nested brackets, no spaces in targets). */
const MARKDOWN_LINK = /\[([^\]\n]*)\]\(([^)\s]*)\)/g;

/**
 * The hint with each relative link pointed at Adobe's published page (the anchor kept), or, where no
 * page is known, reduced to its text. Absolute links (`https:`, `http:`, `mailto:`) are left as they are.
 */
export function resolveHintLinks(hint: string): string {
  return hint.replace(MARKDOWN_LINK, (whole, text: string, target: string) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return whole;
    const resolved = resolveHintTarget(target);
    return resolved === undefined ? text : `[${text}](${resolved})`;
  });
}

/** The published URL of one relative target (`path.md` or `path.md#anchor`), if known. */
export function resolveHintTarget(target: string): string | undefined {
  const hash = target.indexOf('#');
  const path = hash < 0 ? target : target.slice(0, hash);
  const anchor = hash < 0 ? '' : target.slice(hash);
  const page = Object.prototype.hasOwnProperty.call(HINT_LINK_TARGETS, path) ? HINT_LINK_TARGETS[path] : undefined;
  return page === undefined ? undefined : `${page}${anchor}`;
}
