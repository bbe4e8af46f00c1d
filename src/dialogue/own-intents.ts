/**
 * The intents talkcart's dialogue acts on itself: the shop's (handlers.ts) and the conversation's
 * (yes, no, stop, help ... in machine.ts). A domain's response named after one of them would never
 * be said, so the intent loader refuses it (a domain's own intents answer from responses.yaml).
 */
export const OWN_INTENTS: ReadonlySet<string> = new Set([
  "AddToCart", "RemoveFromCart", "SetQuantity", "ReadCart", "ClearCart", "SearchProduct", "ProductPrice",
  "Recommend", "Checkout", "OrderStatus", "Reorder", "AddToWishlist", "ReadWishlist",
  "ProvidePin", "SelectOption", "Yes", "No", "Stop", "Cancel", "Help", "Repeat",
]);
